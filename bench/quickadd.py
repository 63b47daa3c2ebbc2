"""Task: T-428
Spec: specs/features/quickadd.md §Cost

Quick add in `make bench`: a line read into a task (a date, a time, a tag and a priority: one
statement), and one with a rule as well (the task and its rule in one transaction), beside a
plain `POST /tasks` of the same task as JSON.

`python -m bench.quickadd` runs this part alone, on its own server and database.
"""

import asyncio

import httpx

from harness.server import account

TASKS = "/api/v1/tasks"


async def measure(base: str, seconds: float = 3.0, concurrency: int = 8) -> None:
    from bench.__main__ import compare

    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        auth = (await account(client, "quickadd@example.com")).headers
    plain = {"title": "Buy milk", "due_at": "2030-01-02T17:00:00Z", "tags": ["errands"]}
    lines = {
        "POST /tasks": ("", plain),
        "quick add": ("/quick", {"text": "Buy milk tomorrow at 5pm #errands !high"}),
        "quick add with a rule": ("/quick", {"text": "Pay rent every month on the 1st at 9am"}),
    }
    print(f"\nquick add\n{'scenario':<28} {'req/s':>9} {'median ms':>10} {'p99 ms':>10}")
    medians = await compare(
        base,
        {
            name: lambda c, path=path, body=body: c.post(TASKS + path, json=body, headers=auth)
            for name, (path, body) in lines.items()
        },
        seconds,
        concurrency,
    )
    for name in ("quick add", "quick add with a rule"):
        print(f"{name} / a plain POST /tasks: {medians[name] / medians['POST /tasks']:.2f}x median")


async def alone() -> None:
    from bench.__main__ import running

    async with running("todo-bench-quickadd-") as project:
        await measure(project.base)


if __name__ == "__main__":
    asyncio.run(alone())
