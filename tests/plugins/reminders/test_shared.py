"""Task: T-365, T-366
Spec: specs/features/sharing.md §Model (What stays personal), §Testing; specs/features/reminders.md

Reminders stay personal on a shared list: a member's reminder on the owner's task is the
member's; neither the owner nor another member sees or changes it; it fires only into its
setter's inbox, and once the member is removed it no longer fires for them.
"""

from datetime import UTC, datetime, timedelta

import asyncpg

from app.plugins.reminders.firing import fire_due
from app.testing import ApiUser, AppClient, sign_up
from tests.plugins.reminders.conftest import INBOX, add_reminder, new_task, reminders_of, state
from tests.plugins.tasks.sharing import sharing

Connection = asyncpg.Connection


async def test_a_members_reminder_is_theirs_alone(quiet: AppClient, db: Connection) -> None:
    alice, bob, carol = [await sign_up(quiet, ApiUser) for _ in range(3)]
    share, unshare = sharing(db)
    made = await alice.post("/api/v1/lists", json={"name": "Chores"})
    task = await new_task(alice, due_at="2030-01-02T17:00:00Z", list_id=made.json()["id"])
    await share(alice, bob, "editor")
    await share(alice, carol, "viewer")

    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    bobs = await add_reminder(bob, task["id"], at=past)
    assert bobs["user_id"] == bob.id
    carols = await add_reminder(carol, task["id"], offset="-PT15M")  # a viewer may set one too
    alices = await add_reminder(alice, task["id"], at=past)
    # Each sees their own on the task, and reaches no one else's.
    for user, own in ((alice, alices), (bob, bobs), (carol, carols)):
        shown = (await user.get(reminders_of(task["id"]))).json()
        assert [r["id"] for r in shown] == [own["id"]]
        for other in {alices["id"], bobs["id"], carols["id"]} - {own["id"]}:
            assert (await user.get(f"/api/v1/reminders/{other}")).status_code == 404
            assert (await user.delete(f"/api/v1/reminders/{other}")).status_code == 404
    count = "SELECT count(*) FROM reminders WHERE fired_at IS NULL AND cancelled_at IS NULL"
    assert await db.fetchval(count) == 3

    # Fired: bob's into bob's inbox only, alice's into hers.
    await fire_due(quiet.app.state.database, state(quiet).clock.now(), 100)
    for user, fired in ((alice, [alices["id"]]), (bob, [bobs["id"]]), (carol, [])):
        assert [i["reminder_id"] for i in (await user.get(INBOX)).json()] == fired

    # Removed, carol's reminder fires no more: not when due, not at any later sweep.
    await unshare(alice, carol)
    later = datetime(2030, 1, 3, tzinfo=UTC)
    await fire_due(quiet.app.state.database, later, 100)
    assert (await carol.get(INBOX)).json() == []
    # Still hers to see and delete, cancelled: nothing left for a sweep to pick up again.
    lost = (await carol.get(f"/api/v1/reminders/{carols['id']}")).json()
    assert lost["cancel_reason"] == "access_lost" and lost["fired_at"] is None
    assert await db.fetchval(count) == 0
    # Bob, still a member, sets another; alice's reminder limit is not his.
    await add_reminder(bob, task["id"], offset="-PT1H")
