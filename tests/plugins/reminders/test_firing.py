"""Task: T-188
Spec: specs/features/reminders.md §Firing exactly once, §Following the task

Reminders fire exactly once across instances, on a time the test controls; they follow their
tasks (completed, deleted, un-completed, due_at moved); the inbox reaches the owner's feed.
"""

import asyncio
from datetime import UTC, datetime, timedelta

from app.plugins.reminders.firing import fire, fire_due
from app.testing import AppClient, eventually
from tests.plugins.reminders.conftest import (
    INBOX,
    add_reminder,
    move_clock,
    new_task,
    state,
)

Db = "asyncpg.Connection[asyncpg.Record]"


def iso(at: datetime) -> str:
    return at.isoformat()


async def inbox_count(db: Db) -> int:
    return int(await db.fetchval("SELECT count(*) FROM reminders_inbox"))


async def test_a_due_reminder_fires_once_across_two_instances(start_instance, user_of, db: Db):
    one, two = await start_instance(), await start_instance()
    user = await user_of(one)
    task = await new_task(user, title="Stand-up")
    # An hour away on the wall clock; the instances' clocks are moved past it (no waiting an
    # hour), so the sweep each runs every second finds it due.
    soon = datetime.now(UTC) + timedelta(hours=1)
    reminder = await add_reminder(user, task["id"], at=iso(soon))
    await asyncio.sleep(1.5)
    assert await inbox_count(db) == 0  # not before its time
    move_clock(timedelta(hours=1, seconds=1), one, two)
    # And more claimants: a duplicate fire job on the queue, and a sweep of the test's own.
    await state(one).fire_task.defer(
        one.app.state.database, {"reminder_id": reminder["id"], "user_id": user.id}
    )

    async def fired() -> bool:
        return await inbox_count(db) >= 1

    await eventually(fired)
    await fire_due(one.app.state.database, state(one).clock.now(), 100)
    await asyncio.sleep(2)  # two more sweeps on each instance
    assert await inbox_count(db) == 1
    got = (await user.get(f"/api/v1/reminders/{reminder['id']}")).json()
    assert got["status"] == "fired" and got["fired_at"] >= got["fire_at"]
    [item] = (await user.get(INBOX)).json()
    assert item["reminder_id"] == reminder["id"] and item["title"] == "Stand-up"
    # One change of the inbox in the owner's feed, none in another user's.
    changes = (await user.get("/api/v1/changes")).json()["changes"]
    inbox = [c for c in changes if c["type"] == "reminders_inbox"]
    assert len(inbox) == 1 and inbox[0]["op"] == "create"
    assert inbox[0]["data"]["reminder_id"] == reminder["id"]
    other = await user_of(two)
    changes = (await other.get("/api/v1/changes")).json()["changes"]
    assert not [c for c in changes if c["type"].startswith("reminders")]


async def test_a_reminder_due_a_second_away_fires_by_its_job(start_instance, user_of, db: Db):
    one = await start_instance(reminders={"sweep_cron": "0 0 1 1 *"})  # no sweep to help
    await start_instance(reminders={"sweep_cron": "0 0 1 1 *"})
    user = await user_of(one)
    task = await new_task(user)
    due = datetime.now(UTC) + timedelta(seconds=1)
    reminder = await add_reminder(user, task["id"], at=iso(due))

    async def fired() -> bool:
        return await inbox_count(db) == 1

    await eventually(fired)
    row = await db.fetchrow("SELECT fired_at FROM reminders WHERE id = $1", reminder["id"])
    assert row["fired_at"] >= due
    await asyncio.sleep(1)
    assert await inbox_count(db) == 1


async def test_completing_cancels_and_un_completing_re_arms(quiet: AppClient, user_of, db: Db):
    user = await user_of(quiet)
    task = await new_task(user)
    later = datetime.now(UTC) + timedelta(hours=2)
    reminder = await add_reminder(user, task["id"], at=iso(later))
    url = f"/api/v1/reminders/{reminder['id']}"
    assert (await user.patch(f"/api/v1/tasks/{task['id']}/complete")).status_code == 200

    async def status_is(expected: str) -> bool:
        return bool((await user.get(url)).json()["status"] == expected)

    await eventually(lambda: status_is("cancelled"))
    cancelled = (await user.get(url)).json()
    assert cancelled["cancel_reason"] == "task_completed"
    # Its time comes: nothing fires.
    move_clock(timedelta(hours=3), quiet)
    assert await fire_due(quiet.app.state.database, state(quiet).clock.now(), 100) == 0
    move_clock(-timedelta(hours=3), quiet)
    # Un-completed while its time is still ahead: pending again.
    await user.patch(f"/api/v1/tasks/{task['id']}", json={"completed": False})
    await eventually(lambda: status_is("pending"))
    move_clock(timedelta(hours=3), quiet)
    assert await fire_due(quiet.app.state.database, state(quiet).clock.now(), 100) == 1
    assert await inbox_count(db) == 1


async def test_the_firing_itself_refuses_a_completed_task(quiet: AppClient, user_of, db: Db):
    """Even before the consumer has cancelled it (its lag), a completed task's reminder does not
    fire: the firing statement checks the task."""
    user = await user_of(quiet)
    task = await new_task(user)
    reminder = await add_reminder(user, task["id"], at=iso(datetime.now(UTC)))
    await db.execute("UPDATE tasks SET completed = true, completed_at = now()")
    database = quiet.app.state.database
    assert await fire(database.owned(user.id), reminder["id"], datetime.now(UTC)) is None
    assert await inbox_count(db) == 0


async def test_deleting_a_task_deletes_its_reminders_and_keeps_its_inbox(
    quiet: AppClient, user_of, db: Db
):
    user = await user_of(quiet)
    task = await new_task(user)
    now = datetime.now(UTC)
    fired = await add_reminder(user, task["id"], at=iso(now - timedelta(minutes=1)))
    pending = await add_reminder(user, task["id"], at=iso(now + timedelta(hours=1)))
    assert await fire_due(quiet.app.state.database, state(quiet).clock.now(), 100) == 1
    assert (await user.delete(f"/api/v1/tasks/{task['id']}")).status_code == 204
    for reminder in (fired, pending):
        assert (await user.get(f"/api/v1/reminders/{reminder['id']}")).status_code == 404
    move_clock(timedelta(hours=2), quiet)
    assert await fire_due(quiet.app.state.database, state(quiet).clock.now(), 100) == 0
    [item] = (await user.get(INBOX)).json()
    assert item["reminder_id"] == fired["id"] and item["task_id"] == task["id"]


async def test_moving_due_at_moves_a_relative_reminder(quiet: AppClient, user_of, db: Db):
    user = await user_of(quiet)
    due = datetime.now(UTC) + timedelta(hours=1)
    task = await new_task(user, due_at=iso(due))
    relative = await add_reminder(user, task["id"], offset="-PT15M")
    absolute = await add_reminder(user, task["id"], at=iso(due))
    url = f"/api/v1/reminders/{relative['id']}"
    later = due + timedelta(days=1)
    await user.patch(f"/api/v1/tasks/{task['id']}", json={"due_at": iso(later)})

    async def moved() -> bool:
        got = (await user.get(url)).json()
        return bool(got["fire_at"] != relative["fire_at"])

    await eventually(moved)
    got = (await user.get(url)).json()
    assert datetime.fromisoformat(got["fire_at"]) == later - timedelta(minutes=15)
    assert (await user.get(f"/api/v1/reminders/{absolute['id']}")).json() == absolute
    # The old time comes: only the absolute one fires; the moved one waits for its new time.
    move_clock(timedelta(hours=1, minutes=1), quiet)
    database = quiet.app.state.database
    assert await fire(database.owned(user.id), relative["id"], state(quiet).clock.now()) is None
    assert await fire_due(database, state(quiet).clock.now(), 100) == 1
    assert (await user.get(url)).json()["status"] == "pending"
    move_clock(timedelta(days=1), quiet)
    assert await fire_due(database, state(quiet).clock.now(), 100) == 1
    assert (await user.get(url)).json()["status"] == "fired"
    # A new job was deferred for the new time, with its own dedupe key.
    keys = await db.fetch("SELECT dedupe_key FROM pgqueuer WHERE entrypoint = 'reminders.fire'")
    assert f"reminders.fire:{relative['id']}:{got['fire_at'].replace('Z', '+00:00')}" in {
        row["dedupe_key"] for row in keys
    }


async def test_clearing_due_at_parks_a_relative_reminder(quiet: AppClient, user_of):
    user = await user_of(quiet)
    task = await new_task(user, due_at=iso(datetime.now(UTC) + timedelta(hours=1)))
    relative = await add_reminder(user, task["id"], offset="PT0S")
    await user.patch(f"/api/v1/tasks/{task['id']}", json={"due_at": None})
    url = f"/api/v1/reminders/{relative['id']}"

    async def parked() -> bool:
        return (await user.get(url)).json()["fire_at"] is None

    await eventually(parked)
    assert (await user.get(url)).json()["status"] == "pending"
