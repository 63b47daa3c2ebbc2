"""Task: T-137
Spec: specs/api/rest-endpoints.md §Changes
"""

from datetime import timedelta

import asyncpg

from app.core import utcnow
from app.plugins.changes.purge import purge
from app.testing.database import libpq_url
from tests.plugins.changes.conftest import CHANGES, QUIET, feed
from tests.plugins.tasks.conftest import TASKS, sign_up


async def test_a_users_feed_is_their_writes_in_order_with_a_tombstone(alice, bob):
    created = await alice.create(title="first")
    url = f"{TASKS}/{created['id']}"
    updated = (await alice.patch(url, json={"title": "second"})).json()
    completed = (await alice.patch(f"{url}/complete")).json()
    assert (await alice.delete(url)).status_code == 204

    entries, _ = await feed(alice)
    assert [(e["type"], e["id"], e["op"], e["version"]) for e in entries] == [
        ("tasks", created["id"], "create", 1),
        ("tasks", created["id"], "update", 2),
        ("tasks", created["id"], "update", 3),
        ("tasks", created["id"], "delete", 3),
    ]
    # Each change shows the task as the API answered it then; the delete is a tombstone.
    assert [e["data"] for e in entries] == [created, updated, completed, None]
    assert (await feed(bob))[0] == []


async def test_resuming_hands_out_nothing_twice(alice):
    first = await alice.create(title="one")
    seen, cursor = await feed(alice)
    assert [e["id"] for e in seen] == [first["id"]]
    assert (await feed(alice, cursor))[0] == []
    second = await alice.create(title="two")
    later, cursor = await feed(alice, cursor)
    assert [e["id"] for e in later] == [second["id"]]
    assert (await feed(alice, cursor))[0] == []


async def test_pages_follow_one_another(alice):
    ids = [(await alice.create(title=f"t{n}"))["id"] for n in range(5)]
    page = (await alice.get(CHANGES, params={"limit": 2})).json()
    assert page["more"] and len(page["changes"]) == 2
    rest, _ = await feed(alice, page["next"], limit=2)
    assert [e["id"] for e in page["changes"] + rest] == ids


async def test_since_now_starts_after_everything_so_far(alice):
    await alice.create(title="before")
    now = (await alice.get(CHANGES, params={"since": "now"})).json()
    assert now["changes"] == [] and not now["more"]
    after = await alice.create(title="after")
    assert [e["id"] for e in (await feed(alice, now["next"]))[0]] == [after["id"]]


async def test_unchanged_writes_are_not_changes(alice):
    task = await alice.create(title="same")
    _, cursor = await feed(alice)
    await alice.patch(f"{TASKS}/{task['id']}", json={"title": "same"})
    await alice.patch(f"{TASKS}/{task['id']}/complete")
    await alice.patch(f"{TASKS}/{task['id']}/complete")
    assert [e["op"] for e in (await feed(alice, cursor))[0]] == ["update"]


async def test_a_cursor_behind_purged_changes_is_gone(alice, db, database):
    task = await alice.create(title="old")
    _, cursor = await feed(alice)
    await alice.patch(f"{TASKS}/{task['id']}", json={"title": "older"})
    await db.execute("UPDATE changes SET at = now() - interval '31 days'")
    await purge(database, 30)
    assert await db.fetchval("SELECT count(*) FROM changes") == 0

    gone = await alice.get(CHANGES, params={"since": cursor})
    assert gone.status_code == 410
    assert "since=now" in gone.json()["detail"]
    assert (await alice.get(CHANGES)).status_code == 410  # the whole log is no longer there
    fresh = (await alice.get(CHANGES, params={"since": "now"})).json()["next"]
    assert (await feed(alice, fresh))[0] == []


async def test_recent_changes_are_kept(alice, db, database):
    await alice.create(title="recent")
    await db.execute("UPDATE changes SET at = now() - interval '29 days'")
    await purge(database, 30)
    assert len((await feed(alice))[0]) == 1


async def test_transactions_committing_out_of_order_are_each_handed_out_once(
    alice, db, database_url
):
    """T1 writes first and commits last: nothing T2 wrote is handed out before T1 ends, so a
    cursor taken in between cannot skip T1's change."""
    first = await asyncpg.connect(libpq_url(database_url))
    second = await asyncpg.connect(libpq_url(database_url))
    insert = "INSERT INTO tasks (id, user_id, title) VALUES (gen_random_uuid()::text, $1, $2)"
    try:
        t1, t2 = first.transaction(), second.transaction()
        await t1.start()
        await first.execute(insert, alice.id, "T1")
        await t2.start()
        await second.execute(insert, alice.id, "T2")
        await t2.commit()

        seen, cursor = await feed(alice)
        assert seen == []  # T2 committed, but an older transaction is still open

        await t1.commit()
        later, cursor = await feed(alice, cursor)
        assert [e["data"]["title"] for e in later] == ["T1", "T2"]
        assert (await feed(alice, cursor))[0] == []
    finally:
        await first.close()
        await second.close()


async def test_a_change_is_recorded_by_the_writing_transaction(alice, db):
    task_id = "00000000-0000-4000-8000-000000000001"
    async with db.transaction():
        await db.execute(
            "INSERT INTO tasks (id, user_id, title) VALUES ($1, $2, 'x')", task_id, alice.id
        )
        recorded = await db.fetchrow(
            "SELECT xid, pg_current_xact_id()::text::bigint AS mine FROM changes"
        )
        assert recorded["xid"] == recorded["mine"]
    tx = db.transaction()
    await tx.start()
    await db.execute("UPDATE tasks SET title = 'y' WHERE id = $1", task_id)
    await tx.rollback()
    assert await db.fetchval("SELECT count(*) FROM changes") == 1  # the rolled back one is gone


async def test_bad_cursors_and_parameters(alice):
    for params in ({"since": "nonsense!"}, {"since": "bm90LWEtY3Vyc29y"}, {"limit": 0}, {"x": 1}):
        assert (await alice.get(CHANGES, params=params)).status_code == 422, params
    assert (await alice.get(CHANGES, params={"limit": 1001})).status_code == 422


async def test_another_plugins_table_is_in_the_feed_without_its_row(make_client):
    client = await make_client(enabled=(*QUIET, "notes"))
    user = await sign_up(client)
    note = (await user.post("/api/v1/notes", json={"body": "hello"})).json()
    entries, _ = await feed(user)
    assert [(e["type"], e["id"], e["op"], e["version"], e["data"]) for e in entries] == [
        ("notes", note["id"], "create", None, None)
    ]


async def test_at_is_when_it_was_written(alice):
    before = utcnow() - timedelta(seconds=5)
    await alice.create(title="now")
    (entry,) = (await feed(alice))[0]
    assert entry["at"].endswith("Z") and entry["at"] > before.isoformat().replace("+00:00", "Z")
