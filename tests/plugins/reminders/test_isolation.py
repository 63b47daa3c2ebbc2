"""Task: T-189
Spec: specs/features/reminders.md §Isolation, §Disabling

Another user reaches nothing of the reminders plugin (assert_isolated over every route); the
plugin can be disabled: the app starts without its routes, and its data stays.
"""

from datetime import UTC, datetime, timedelta

import asyncpg

from app.core.plugins.plugins_file import DEFAULT_ENABLED
from app.plugins.reminders.firing import fire_due
from app.testing import ApiUser, AppClient, assert_isolated, sign_up
from tests.plugins.changes.consumed import consumed
from tests.plugins.reminders.conftest import INBOX, add_reminder, new_task, reminders_of, state
from tests.plugins.tasks.sharing import sharing


async def test_another_user_reaches_nothing(
    quiet: AppClient, db: "asyncpg.Connection[asyncpg.Record]"
) -> None:
    alice, bob = await sign_up(quiet, ApiUser), await sign_up(quiet, ApiUser)
    share, end_membership = sharing(db)

    async def unshare(owner: ApiUser, member: ApiUser) -> None:
        # Losing the list disarms the member's own reminders on its tasks: the consumer that
        # follows the tasks does it after the commit, and the checks that follow must not race it.
        await end_membership(owner, member)
        await consumed(db, "reminders.tasks", {"tasks"})

    async def create(user: ApiUser) -> dict[str, str]:
        shared = await user.post("/api/v1/lists", json={"name": "shared"})
        task = await new_task(user, due_at="2030-01-02T17:00:00Z", list_id=shared.json()["id"])
        past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
        fired = await add_reminder(user, task["id"], at=past)
        await fire_due(quiet.app.state.database, state(quiet).clock.now(), 100)
        [item] = [i for i in (await user.get(INBOX)).json() if i["reminder_id"] == fired["id"]]
        reminder = await add_reminder(user, task["id"], offset="-PT15M")
        # Every id a list may show: the fired reminder too.
        ids = {"task_id": task["id"], "reminder_id": reminder["id"], "item_id": item["id"]}
        return {**ids, "fired": fired["id"]}

    checked = await assert_isolated(
        quiet.app,
        alice,
        bob,
        plugin="reminders",
        create=create,
        body={"offset": "-PT15M"},
        list_params=({}, {"limit": 1}),
        share=share,
        unshare=unshare,
        personal={"/api/v1/tasks/{task_id}/reminders"},
    )
    assert len(checked.unreachable) == 5
    assert set(checked.lists) == {"/api/v1/tasks/{task_id}/reminders", INBOX}
    # The role check: a viewer of the task's list reads the task's reminders (their own: none),
    # may add one of their own, and reaches none of alice's reminders or inbox items.
    assert checked.readable == [("GET", "/api/v1/tasks/{task_id}/reminders")]
    assert checked.own == [("POST", "/api/v1/tasks/{task_id}/reminders")]
    assert checked.forbidden == []
    assert len(checked.personal) == 3
    assert checked.revoked == checked.unreachable


async def test_b_cannot_add_reminders_to_as_task(
    quiet: AppClient, db: "asyncpg.Connection[asyncpg.Record]"
) -> None:
    alice, bob = await sign_up(quiet, ApiUser), await sign_up(quiet, ApiUser)
    task = await new_task(alice, due_at="2030-01-02T17:00:00Z")
    for body in ({"offset": "-PT15M"}, {"at": "2030-01-02T09:00:00Z"}):
        response = await bob.post(reminders_of(task["id"]), json=body)
        assert response.status_code == 404 and response.json()["detail"] == "Task not found"
    assert await db.fetchval("SELECT count(*) FROM reminders") == 0


async def test_disabled_the_app_starts_and_the_data_stays(
    quiet: AppClient, make_client, db: "asyncpg.Connection[asyncpg.Record]"
) -> None:
    user = await sign_up(quiet, ApiUser)
    task = await new_task(user)
    reminder = await add_reminder(user, task["id"], at="2030-01-02T09:00:00Z")
    others = tuple(name for name in DEFAULT_ENABLED if name != "reminders")
    without = await make_client(enabled=others, tables={"jobs": {"worker": False}})
    assert (await without.get("/api/v1/health/ready")).status_code == 200
    again = await sign_up(without, ApiUser)
    assert (await again.get(INBOX)).status_code == 404  # no such route
    assert "/api/v1/reminders/inbox" not in (await without.get("/api/v1/openapi.json")).text
    assert await db.fetchval("SELECT count(*) FROM reminders") == 1
    # Enabled again: the reminder is there.
    got = await user.get(f"/api/v1/reminders/{reminder['id']}")
    assert got.status_code == 200 and got.json() == reminder
