"""Task: T-050
Spec: specs/api/rest-endpoints.md §Tasks

The task API's benchmark: a real server on a fresh database, driven over HTTP.

It starts an embedded PostgreSQL in a temporary folder, runs `todo-api serve` (one uvicorn
worker) against it, registers two users through the API — one with 20 tasks, one with 10,000 —
seeds many other users with SQL, then drives each scenario with concurrent keep-alive clients and
prints requests per second, median and p99. The target: the 10,000-task user's first page costs
within 1.5x of the 20-task user's (indexes led by user_id make a first page a short range scan).

Speed is measured here, never asserted in tests: numbers drift between machines and runs, so
compare ratios taken in the same run.
"""

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import httpx

from app.core.embedded import start as start_embedded
from harness.server import account, asyncpg_dsn, serving

Request = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


SEED_TASKS = """
INSERT INTO tasks (id, user_id, title, description, priority, tags, created_at, updated_at)
SELECT gen_random_uuid()::text, $1, 'Task ' || n, 'Seeded task number ' || n,
       (ARRAY['none','low','medium','high'])[1 + n % 4]::task_priority,
       ARRAY['tag' || (n % 7)], now() - n * interval '1 minute', now() - n * interval '1 minute'
FROM generate_series(1, $2) AS n
"""


async def seed(dsn: str, small: str, big: str, others: int) -> list[str]:
    """Tasks for the two measured users and `others` more users with 20 tasks each."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(SEED_TASKS, small, 20)
        await connection.execute(SEED_TASKS, big, 10_000)
        ids = [f"bench-{n}" for n in range(others)]
        await connection.executemany(
            "INSERT INTO users (id, issuer, email) VALUES ($1, 'bench', $1 || '@example.com')",
            [(user_id,) for user_id in ids],
        )
        await connection.executemany(SEED_TASKS, [(user_id, 20) for user_id in ids])
        await connection.execute("ANALYZE")
        rows = await connection.fetch("SELECT id FROM tasks WHERE user_id = $1", big)
        return [row["id"] for row in rows]
    finally:
        await connection.close()


async def drive(base: str, request: Request, seconds: float, concurrency: int) -> list[float]:
    """Send `request` from `concurrency` keep-alive clients for `seconds`; return latencies."""
    latencies: list[float] = []
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

        async def worker() -> None:
            while time.monotonic() < deadline:
                started = time.perf_counter()
                response = await request(client)
                latencies.append(time.perf_counter() - started)
                if response.status_code >= 400:
                    request_line = f"{response.request.method} {response.request.url}"
                    raise SystemExit(f"{request_line}: {response.status_code} {response.text}")

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def report(name: str, latencies: list[float], seconds: float) -> float:
    ordered = sorted(latencies)
    median = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    print(f"{name:<28} {len(ordered) / seconds:>9.0f} {median:>10.1f} {p99:>10.1f}")
    return median


async def main(seconds: float, concurrency: int, others: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="todo-bench-"))
    url = start_embedded(folder / "postgres")
    async with serving(url, folder) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            small = await account(client, "small@example.com")
            big = await account(client, "big@example.com")
        small_auth, big_auth = small.headers, big.headers
        big_tasks = await seed(asyncpg_dsn(url), small.id, big.id, others)
        print(f"seeded: 20 + 10,000 tasks, and {others} other users with 20 each")
        print(f"{'scenario':<28} {'req/s':>9} {'median ms':>10} {'p99 ms':>10}")

        def list_first_page(auth: dict[str, str]) -> Request:
            return lambda client: client.get("/api/v1/tasks", headers=auth)

        def get_task(client: httpx.AsyncClient) -> Awaitable[httpx.Response]:
            return client.get(f"/api/v1/tasks/{random.choice(big_tasks)}", headers=big_auth)

        def create_task(client: httpx.AsyncClient) -> Awaitable[httpx.Response]:
            return client.post("/api/v1/tasks", json={"title": "Benchmark task"}, headers=big_auth)

        def update_task(client: httpx.AsyncClient) -> Awaitable[httpx.Response]:
            return client.patch(
                f"/api/v1/tasks/{random.choice(big_tasks)}",
                json={"title": f"Renamed {random.random()}"},
                headers=big_auth,
            )

        def complete_task(client: httpx.AsyncClient) -> Awaitable[httpx.Response]:
            return client.patch(
                f"/api/v1/tasks/{random.choice(big_tasks)}/complete", headers=big_auth
            )

        # Warm up the connection pools and caches on both sides before measuring.
        await drive(base, list_first_page(small_auth), 1, concurrency)
        medians = {}
        for name, request in [
            ("list, 20-task user", list_first_page(small_auth)),
            ("list, 10,000-task user", list_first_page(big_auth)),
            ("get", get_task),
            ("create", create_task),
            ("update (PATCH)", update_task),
            ("complete", complete_task),
        ]:
            medians[name] = report(name, await drive(base, request, seconds, concurrency), seconds)
        ratio = medians["list, 10,000-task user"] / medians["list, 20-task user"]
        verdict = "within" if ratio <= 1.5 else "OVER"
        print(f"first page, 10,000 vs 20 tasks: {ratio:.2f}x median ({verdict} the 1.5x target)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Benchmark the task API over HTTP."
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="per scenario")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--others", type=int, default=500, help="other users seeded")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.seconds, arguments.concurrency, arguments.others))
