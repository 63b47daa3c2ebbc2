"""Task: T-090
Spec: specs/features/plugins.md §Database

Backends killed with `pg_terminate_backend` in the middle of a burst of task reads and writes
cost no request and write nothing twice: each statement whose connection drops runs once more
on a fresh one, and every task write is safe to apply twice.
"""

import asyncio
import uuid

from tests.core.test_pool import TERMINATE
from tests.plugins.tasks.conftest import TASKS, User


async def test_killed_backends_cost_no_request_and_write_nothing_twice_cost_no_request_and_write_nothing_twice(
    alice: User, db
):
    await alice.create(title="warm the pool up")
    titles = [f"burst {uuid.uuid4()}" for _ in range(120)]
    statuses: list[int] = []

    async def client(mine: list[str]) -> None:
        for title in mine:
            created = await alice.post(TASKS, json={"title": title})
            listed = await alice.get(TASKS, params={"limit": 5})
            statuses.extend((created.status_code, listed.status_code))

    async def killer() -> int:
        killed = 0
        for _ in range(4):
            await asyncio.sleep(0.25)
            killed += await db.fetchval(TERMINATE)
        return killed

    clients = [client(titles[i::6]) for i in range(6)]
    *_, killed = await asyncio.gather(*clients, killer())
    assert killed > 0  # the faults hit something
    assert set(statuses) <= {200, 201}, sorted(set(statuses))
    stored = await db.fetch(
        "SELECT title, count(*) FROM tasks WHERE title = ANY($1) GROUP BY title", titles
    )
    assert {row["title"]: row["count"] for row in stored} == dict.fromkeys(titles, 1)
