"""Task: T-437
Spec: specs/features/calendar.md §Benchmark

The calendar feed in `make bench`: a user with 1,000 due tasks (a tenth of them recurring), their
`.ics` feed polled by calendar apps (req/s, median, p99), beside `GET /tasks` of the same user
(its largest page, 500) as the ratio, and a poll answered 304 (the same statement, no
rendering).

`python -m bench.calendar` runs this part alone, on its own server and database.
"""

import asyncio

import httpx

from harness.server import account

TASKS = "/api/v1/tasks"
FEEDS = "/api/v1/calendar/feeds"
COUNT = 1000
RECURRING = 100


async def measure(base: str, seconds: float = 3.0, concurrency: int = 8) -> None:
    from bench.__main__ import compare

    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        user = await account(client, "calendar@example.com")
        auth = user.headers
        ids: list[str] = []
        for start in range(0, COUNT, 100):
            operations = [
                {
                    "op": "create",
                    "task": {
                        "title": f"Task {n}",
                        "due_at": f"2030-{1 + n % 12:02d}-{1 + n % 28:02d}T09:00:00Z",
                        "tags": [f"tag{n % 7}"],
                        "priority": ("none", "low", "medium", "high")[n % 4],
                    },
                }
                for n in range(start, start + 100)
            ]
            made = await client.post(
                f"{TASKS}/batch", json={"operations": operations}, headers=auth
            )
            made.raise_for_status()
            ids.extend(result["body"]["id"] for result in made.json()["results"])
        for task_id in ids[:RECURRING]:
            rule = {"rule": "FREQ=WEEKLY", "timezone": "Europe/Berlin"}
            (
                await client.put(f"{TASKS}/{task_id}/recurrence", json=rule, headers=auth)
            ).raise_for_status()
        created = await client.post(FEEDS, json={"name": "Bench"}, headers=auth)
        created.raise_for_status()
        url = "/" + created.json()["url"].split("://", 1)[1].split("/", 1)[1]
        tag = (await client.get(url)).headers["etag"]

    print(f"\ncalendar feed: {COUNT} due tasks ({RECURRING} recurring)")
    print(f"{'scenario':<28} {'req/s':>9} {'median ms':>10} {'p99 ms':>10}")
    scenarios = {
        "GET /tasks, 500 of them": lambda c: c.get(TASKS, params={"limit": 500}, headers=auth),
        ".ics, 1,000 tasks": lambda c: c.get(url),
        ".ics, 304": lambda c: c.get(url, headers={"If-None-Match": tag}),
    }
    medians = await compare(base, scenarios, seconds, concurrency)
    ratio = medians[".ics, 1,000 tasks"] / medians["GET /tasks, 500 of them"]
    print(f"the .ics of 1,000 tasks / a 500-task page of GET /tasks: {ratio:.2f}x median")


async def alone() -> None:
    from bench.__main__ import running

    async with running("todo-bench-calendar-") as project:
        await measure(project.base)


if __name__ == "__main__":
    asyncio.run(alone())
