"""Task: T-288
Spec: specs/api/rest-endpoints.md §Order, §Speed

Lists and manual order in `make bench`: one list's 10,000 tasks in position order beside the
task list as it was (the same user's first page, `-created_at`), and 1,000 moves to one spot
(each right after one fixed task) beside a PATCH, with the longest key at the end.

`python -m bench.order` runs this part alone, on its own server and database.
"""

import asyncio
import statistics
import sys
import time

import asyncpg
import httpx

TASKS = "/api/v1/tasks"


async def position_order(base: str, auth: dict[str, str], seconds: float, concurrency: int) -> None:
    """The first page of a 10,000-task list in position order beside today's task list."""
    from bench.__main__ import compare

    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        first = (await client.get(TASKS, params={"limit": 1}, headers=auth)).json()[0]
    by_position = {"list_id": first["list_id"], "sort": "position"}
    pages = {
        "tasks, -created_at": lambda client: client.get(TASKS, headers=auth),
        "one list, position": lambda client: client.get(TASKS, params=by_position, headers=auth),
    }
    medians = await compare(base, pages, seconds, concurrency)
    ratio = medians["one list, position"] / medians["tasks, -created_at"]
    print(
        f"a list of 10,000 tasks in position order / today's task list: {ratio:.2f}x (target 1.2x)"
    )


async def moves(base: str, dsn: str, auth: dict[str, str], count: int = 1000) -> None:
    """`count` moves to one spot, one at a time, beside as many PATCHes of the same tasks."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        anchor = (await client.post(TASKS, json={"title": "anchor"}, headers=auth)).json()
        movers = [
            (await client.post(TASKS, json={"title": f"m{n}"}, headers=auth)).json()["id"]
            for n in range(4)
        ]
        timings: dict[str, list[float]] = {"move": [], "patch": []}
        for n in range(count):
            mover = movers[n % len(movers)]
            requests = {
                "move": client.build_request(
                    "POST", f"{TASKS}/{mover}/move", json={"after": anchor["id"]}, headers=auth
                ),
                "patch": client.build_request(
                    "PATCH", f"{TASKS}/{mover}", json={"title": f"t{n}"}, headers=auth
                ),
            }
            for name, request in requests.items():
                started = time.perf_counter()
                response = await client.send(request)
                timings[name].append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise SystemExit(f"{name} failed: {response.text[:300]}")
    connection = await asyncpg.connect(dsn)
    try:
        longest = await connection.fetchval(
            "SELECT max(length(position)) FROM tasks WHERE list_id = $1", anchor["list_id"]
        )
    finally:
        await connection.close()
    move, patch = (statistics.median(timings[name]) * 1000 for name in ("move", "patch"))
    print(
        f"{count} moves to one spot: longest key {longest} characters; median move {move:.2f} ms,"
        f" PATCH {patch:.2f} ms: {move / patch:.2f}x (target 1.5x)"
    )


async def alone(seconds: float, concurrency: int) -> None:
    from bench.__main__ import running, seed

    async with running("todo-bench-order-") as project:
        await seed(project.dsn, project.small.id, project.big.id, 0)
        await position_order(project.base, project.big.headers, seconds, concurrency)
        await moves(project.base, project.dsn, project.small.headers)


if __name__ == "__main__":
    asyncio.run(alone(float(sys.argv[1]) if len(sys.argv) > 1 else 3.0, 16))
