"""Task: T-203, T-204
Spec: specs/database/schema.md §reminders plugin

Migration reminders_0002 repairs reminder and inbox times stored as -infinity and infinity into
the range's edges, gives a relative reminder whose task's due date was repaired its time, mends
the change log's entries, and makes the tables refuse such times from then on.
"""

from pathlib import Path

import asyncpg
import pytest

from app.plugins.reminders.firing import fire_due
from app.testing import AppClient
from tests.plugins.reminders.conftest import INBOX, add_reminder, new_task, state
from tests.plugins.tasks.instants import downgrade, naked_datetimes, upgrade

EARLIEST, LATEST = "0001-01-02T00:00:00Z", "9999-12-30T23:59:59.999999Z"
DUE = "2030-01-02T17:00:00Z"
SET = "UPDATE {table} SET {column} = $1::text::timestamptz WHERE id = $2"


async def test_reminder_times_stored_as_infinity_are_repaired(
    quiet: AppClient,
    user_of,
    database_url: str,
    tmp_path: Path,
    db: "asyncpg.Connection[asyncpg.Record]",
) -> None:
    user = await user_of(quiet)
    task, far = await new_task(user, due_at=DUE), await new_task(user, due_at=DUE)
    low = await add_reminder(user, task["id"], at=DUE)
    high = await add_reminder(user, task["id"], at=DUE)
    relative = await add_reminder(user, far["id"], offset="P1D")
    fired = await add_reminder(user, task["id"], at="2020-01-01T00:00:00Z")
    assert await fire_due(quiet.app.state.database, state(quiet).clock.now(), 100) == 1
    item = (await user.get(INBOX)).json()[0]

    await downgrade(database_url, tmp_path, "reminders_0001", "tasks_0001")
    # As the API once stored them (a relative reminder of a task due at -infinity had no time).
    writes = [
        ("reminders", "at", "-infinity", low),
        ("reminders", "fire_at", "-infinity", low),
        ("reminders", "at", "infinity", high),
        ("reminders", "fire_at", "infinity", high),
        ("tasks", "due_at", "-infinity", far),
        ("reminders", "fire_at", None, relative),
        ("reminders_inbox", "fire_at", "-infinity", item),
    ]
    for table, column, value, row in writes:
        await db.execute(SET.format(table=table, column=column), value, row["id"])
    await upgrade(database_url, tmp_path)

    answered = {}
    for reminder, at, fire_at in (
        (low, EARLIEST, EARLIEST),
        (high, LATEST, LATEST),
        (relative, None, "0001-01-03T00:00:00Z"),  # the repaired due date + 1 day
    ):
        body = (await user.get(f"/api/v1/reminders/{reminder['id']}")).json()
        assert (body["at"], body["fire_at"]) == (at, fire_at)
        assert body["version"] == reminder["version"] + 1  # the repair is a change
        answered[reminder["id"]] = body
    assert (await user.get(f"/api/v1/reminders/{fired['id']}")).json()["status"] == "fired"
    inbox = (await user.get(INBOX)).json()
    assert [(i["id"], i["fire_at"], i["version"]) for i in inbox] == [(item["id"], EARLIEST, 1)]

    assert await db.fetchval("SELECT count(*) FROM changes WHERE data::text LIKE '%infinity%'") == 0
    feed = await user.get("/api/v1/changes")
    assert feed.status_code == 200, feed.text
    changes = feed.json()["changes"]
    assert naked_datetimes(changes) == []
    last = {change["id"]: change["data"] for change in changes}
    assert all(last[id_] == body for id_, body in answered.items())

    # From now on the tables themselves refuse them.
    for table, column, row in (
        ("reminders", "at", low),
        ("reminders", "fire_at", low),
        ("reminders_inbox", "fire_at", item),
    ):
        for value in ("-infinity", "infinity"):
            with pytest.raises(asyncpg.CheckViolationError):
                await db.execute(SET.format(table=table, column=column), value, row["id"])
