"""Task: T-202, T-204
Spec: specs/database/schema.md §tasks plugin

Migration tasks_0002 repairs due dates stored as -infinity and infinity (what asyncpg made of
the calendar's edges) into the range's edges, as a change (new version, in the feed), mends the
change log's entries that held them, and makes the table refuse them from then on.
"""

from pathlib import Path

import asyncpg
import pytest

from tests.plugins.tasks.conftest import TASKS, User
from tests.plugins.tasks.instants import downgrade, naked_datetimes, upgrade

CHANGES = "/api/v1/changes"
EARLIEST, LATEST = "0001-01-02T00:00:00Z", "9999-12-30T23:59:59.999999Z"


async def test_due_dates_stored_as_infinity_are_repaired_to_the_ranges_edges(
    alice: User, database_url: str, tmp_path: Path, db: "asyncpg.Connection[asyncpg.Record]"
):
    low, high, plain = await alice.create(), await alice.create(), await alice.create()
    await downgrade(database_url, tmp_path, "reminders_0001", "tasks_0001")
    # As the API once stored them: written through the table, so the change log records them.
    for task, value in ((low, "-infinity"), (high, "infinity")):
        await db.execute(
            "UPDATE tasks SET due_at = $1::text::timestamptz WHERE id = $2", value, task["id"]
        )
    await upgrade(database_url, tmp_path)

    repaired = {}
    for task, due_at in ((low, EARLIEST), (high, LATEST)):
        response = await alice.get(f"{TASKS}/{task['id']}")
        repaired[task["id"]] = response.json()
        assert response.json()["due_at"] == due_at
        assert response.json()["version"] == task["version"] + 1  # the repair is a change
    assert (await alice.get(f"{TASKS}/{plain['id']}")).json() == plain

    infinite = "SELECT count(*) FROM changes WHERE data ->> 'due_at' LIKE '%infinity'"
    assert await db.fetchval(infinite) == 0
    feed = await alice.get(CHANGES)
    assert feed.status_code == 200, feed.text
    changes = feed.json()["changes"]
    assert naked_datetimes(changes) == []
    last = {change["id"]: change["data"] for change in changes}
    assert last[low["id"]] == repaired[low["id"]] and last[high["id"]] == repaired[high["id"]]

    # From now on the table itself refuses them.
    for value in ("-infinity", "infinity", "0001-01-01T23:59:59.999999Z"):
        with pytest.raises(asyncpg.CheckViolationError):
            await db.execute(
                "UPDATE tasks SET due_at = $1::text::timestamptz WHERE id = $2", value, plain["id"]
            )
