"""Task: T-311, T-312
Spec: specs/features/plugins.md §Database; specs/api/rest-endpoints.md §Errors

Two writes of one user that deadlock: PostgreSQL rolls one back (40P01), and the request whose
transaction that was answers a 503 problem with `Retry-After`, not a 500; nothing of it was
applied, and sending it again succeeds. The deadlock is a real one, on the test database: a
batch that edits task A and deletes task B races another connection's transaction that moves B
and then writes A.
"""

import asyncio

import asyncpg

from tests.plugins.tasks.conftest import TASKS, User

BATCH = f"{TASKS}/batch"
# Backends of this test's database waiting for a lock (the batch's, once it reaches B).
WAITING = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock'
"""


async def someone_waits_for_a_lock(db: "asyncpg.Connection[asyncpg.Record]") -> None:
    for _ in range(3000):  # the database tells; polled, up to 30 s
        if await db.fetchval(WAITING):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the batch never waited for B")


async def test_a_deadlocked_write_is_a_503_to_retry_and_applies_nothing(
    alice: User, db: "asyncpg.Connection[asyncpg.Record]"
) -> None:
    a, b = await alice.create(title="a"), await alice.create(title="b")
    batch = {
        "operations": [
            {"op": "update", "id": a["id"], "changes": {"title": "a, edited"}},
            {"op": "delete", "id": b["id"]},
        ]
    }
    async with db.transaction():
        await db.execute("UPDATE tasks SET position = position || '1' WHERE id = $1", b["id"])
        sent = asyncio.create_task(alice.post(BATCH, json=batch))
        # The batch has written A and waits for B: writing A now closes the cycle. The batch's
        # backend began waiting first, so its deadlock check (after `deadlock_timeout`, 1 s)
        # runs first and rolls the batch back; this statement then goes through.
        await someone_waits_for_a_lock(db)
        await db.execute("UPDATE tasks SET title = 'a, moved' WHERE id = $1", a["id"])
        response = await sent

    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "1"
    problem = response.json()
    assert problem["status"] == 503 and "retry" in problem["detail"]
    assert "deadlock" not in response.text.lower()  # nothing of PostgreSQL's message
    # Nothing of the batch was applied: A has the other transaction's title, B is still there.
    assert (await alice.get(f"{TASKS}/{a['id']}")).json()["title"] == "a, moved"
    assert (await alice.get(f"{TASKS}/{b['id']}")).status_code == 200

    again = await alice.post(BATCH, json=batch)
    assert again.status_code == 200, again.text
    assert [result["status"] for result in again.json()["results"]] == [200, 204]
