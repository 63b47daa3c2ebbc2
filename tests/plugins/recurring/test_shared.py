"""Task: T-373, T-374
Spec: specs/features/recurring.md §Shared lists; specs/features/sharing.md §Tasks in shared lists

Recurring tasks in a shared list: a recurrence is reached like its task (viewers read it,
editors set it and complete its occurrences, strangers find nothing), and it follows its task
to another list or owner, by the key that ties it to the task; the members' feeds carry it.
Memberships are written straight into `list_members`, as the tasks plugin's tests do.
"""

from typing import Any

from tests.plugins.changes.conftest import feed
from tests.plugins.recurring.conftest import Recurring, make
from tests.plugins.tasks.conftest import TASKS
from tests.plugins.tasks.test_shared_access import LISTS, shared_list

DUE = "2026-05-01T07:00:00Z"
RULE = {"rule": "FREQ=WEEKLY", "timezone": "Europe/Berlin"}


async def stored(db, task_id: str) -> dict[str, Any] | None:
    """The recurrence's row as stored (its owner and list, which the API does not answer)."""
    row = await db.fetchrow("SELECT * FROM recurrences WHERE task_id = $1", task_id)
    return None if row is None else dict(row)


async def test_an_editor_sets_a_rule_and_completes_the_task(alice: Recurring, bob: Recurring, db):
    list_id = await shared_list(alice, bob, "editor", db)
    task = await bob.create(title="take the bins out", due_at=DUE, list_id=list_id)
    url = f"{TASKS}/{task['id']}/recurrence"
    put = await bob.put(url, json=RULE)
    assert put.status_code == 200, put.text
    assert (await alice.recurrence(task["id"])).json() == put.json()
    row = await stored(db, task["id"])
    assert row is not None and (row["user_id"], row["list_id"]) == (alice.id, list_id)

    done = await bob.complete(task["id"])
    assert done["completed_by"] == bob.id
    successor_id = (await bob.recurrence(task["id"])).json()["successor_id"]
    assert successor_id is not None, "the editor's completion made the next occurrence"
    for user in (alice, bob):
        following = await user.get(f"{TASKS}/{successor_id}")
        assert following.status_code == 200, following.text
        body = following.json()
        assert (body["list_id"], body["user_id"]) == (list_id, alice.id)
        assert body["due_at"] == "2026-05-08T07:00:00Z" and not body["completed"]
        assert body["created_by"] == bob.id
        recurs = await user.recurrence(successor_id)
        assert recurs.status_code == 200, recurs.text
        assert recurs.json()["series_id"] == put.json()["series_id"]
    row = await stored(db, successor_id)
    assert row is not None and (row["user_id"], row["list_id"]) == (alice.id, list_id)
    # The editor changes the rule the series made (an upsert of the owner's row).
    changed = await bob.put(
        f"{TASKS}/{successor_id}/recurrence", json={"rule": "FREQ=DAILY", "timezone": "UTC"}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2 and changed.json()["rule"] == "FREQ=DAILY"
    assert (await stored(db, successor_id) or {})["user_id"] == alice.id
    # And the series goes on from the owner's completion as from the editor's.
    await alice.complete(successor_id)
    assert (await alice.recurrence(successor_id)).json()["successor_id"] is not None


async def test_an_editor_deletes_one_occurrence_and_the_series_goes_on(
    alice: Recurring, bob: Recurring, db
):
    list_id = await shared_list(alice, bob, "editor", db)
    task = await alice.recurring("FREQ=DAILY", DUE, list_id=list_id)
    gone = await bob.delete(f"{TASKS}/{task['id']}/occurrence", params={"scope": "this"})
    assert gone.status_code == 204, gone.text
    (following,) = await alice.tasks()
    assert following["due_at"] == "2026-05-02T07:00:00Z" and following["list_id"] == list_id
    assert following["user_id"] == alice.id
    assert (await bob.recurrence(following["id"])).status_code == 200


async def test_a_viewer_reads_the_recurrence_and_may_not_change_it(
    alice: Recurring, bob: Recurring, db
):
    list_id = await shared_list(alice, bob, "viewer", db)
    task = await alice.recurring("FREQ=DAILY", DUE, list_id=list_id)
    url = f"{TASKS}/{task['id']}/recurrence"
    read = await bob.get(url)
    assert read.status_code == 200, read.text
    assert read.json() == (await alice.get(url)).json()
    before = await stored(db, task["id"])
    for refused in (
        await bob.put(url, json={"rule": "FREQ=HOURLY", "timezone": "UTC"}),
        await bob.delete(url),
        await bob.delete(f"{TASKS}/{task['id']}/occurrence"),
    ):
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
    assert await stored(db, task["id"]) == before
    # Nor may they make a task of the list recur.
    plain = await alice.create(title="water the plants", due_at=DUE, list_id=list_id)
    refused = await bob.put(f"{TASKS}/{plain['id']}/recurrence", json=RULE)
    assert refused.status_code == 403, refused.text
    assert await stored(db, plain["id"]) is None


async def test_a_stranger_finds_nothing(alice: Recurring, bob: Recurring, client, db):
    carol = await make(client)
    list_id = await shared_list(alice, bob, "editor", db)
    task = await alice.recurring("FREQ=DAILY", DUE, list_id=list_id)
    url = f"{TASKS}/{task['id']}/recurrence"
    before = await stored(db, task["id"])
    assert (await carol.get(url)).status_code == 404
    assert (await carol.put(url, json=RULE)).status_code == 404
    assert (await carol.delete(url)).status_code == 404
    assert (await carol.delete(f"{TASKS}/{task['id']}/occurrence")).status_code == 404
    assert await stored(db, task["id"]) == before


async def test_a_moved_task_keeps_its_recurrence(alice: Recurring, bob: Recurring, db):
    first = (await alice.post(LISTS, json={"name": "Home"})).json()["id"]
    second = await shared_list(alice, bob, "viewer", db)
    task = await alice.recurring("FREQ=DAILY", DUE, list_id=first)
    assert (await bob.recurrence(task["id"])).status_code == 404  # not in Bob's list yet
    moved = await alice.post(f"{TASKS}/{task['id']}/move", json={"list_id": second})
    assert moved.status_code == 200, moved.text
    row = await stored(db, task["id"])
    assert row is not None and (row["user_id"], row["list_id"]) == (alice.id, second)
    assert (await bob.recurrence(task["id"])).status_code == 200  # the list's members see it
    # Moved by an editor into their own list, the task becomes theirs: so does its recurrence.
    await db.execute("UPDATE list_members SET role = 'editor' WHERE member_id = $1", bob.id)
    mine = (await bob.post(LISTS, json={"name": "Bob's"})).json()["id"]
    moved = await bob.post(f"{TASKS}/{task['id']}/move", json={"list_id": mine})
    assert moved.status_code == 200, moved.text
    row = await stored(db, task["id"])
    assert row is not None and (row["user_id"], row["list_id"]) == (bob.id, mine)
    assert (await alice.recurrence(task["id"])).status_code == 404
    await bob.complete(task["id"])
    successor_id = (await bob.recurrence(task["id"])).json()["successor_id"]
    row = await stored(db, successor_id)
    assert row is not None and (row["user_id"], row["list_id"]) == (bob.id, mine)


async def test_a_recurrence_follows_its_list_handed_over(alice: Recurring, bob: Recurring, db):
    list_id = await shared_list(alice, bob, "viewer", db)
    task = await alice.recurring("FREQ=DAILY", DUE, list_id=list_id)
    handed = await alice.post(f"{LISTS}/{list_id}/transfer", json={"user_id": bob.id})
    assert handed.status_code == 200, handed.text
    row = await stored(db, task["id"])
    assert row is not None and (row["user_id"], row["list_id"]) == (bob.id, list_id)
    # The new owner changes it; the old one, an editor now, completes it.
    changed = await bob.put(f"{TASKS}/{task['id']}/recurrence", json=RULE)
    assert changed.status_code == 200, changed.text
    await alice.complete(task["id"])
    successor_id = (await bob.recurrence(task["id"])).json()["successor_id"]
    following = (await bob.get(f"{TASKS}/{successor_id}")).json()
    assert (following["user_id"], following["due_at"]) == (bob.id, "2026-05-08T07:00:00Z")
    row = await stored(db, successor_id)
    assert row is not None and (row["user_id"], row["list_id"]) == (bob.id, list_id)


async def test_members_feeds_carry_the_recurrence(alice: Recurring, bob: Recurring, db):
    list_id = await shared_list(alice, bob, "viewer", db)
    _, bob_at = await feed(bob)
    task = await alice.recurring("FREQ=DAILY", DUE, list_id=list_id)
    entries, bob_at = await feed(bob, bob_at)
    assert [(e["type"], e["op"], e["id"]) for e in entries] == [
        ("tasks", "create", task["id"]),
        ("recurrences", "create", task["id"]),
    ]
    # Leaving drops it from the leaver's copy; joining again brings it back.
    leave = "DELETE FROM list_members WHERE list_id = $1 AND member_id = $2"
    await db.execute(leave, list_id, bob.id)
    entries, bob_at = await feed(bob, bob_at)
    assert ("recurrences", "delete", task["id"]) in [(e["type"], e["op"], e["id"]) for e in entries]
    await db.execute(
        "INSERT INTO list_members (list_id, user_id, member_id, role) VALUES ($1, $2, $3, $4)",
        list_id,
        alice.id,
        bob.id,
        "viewer",
    )
    entries, _ = await feed(bob, bob_at)
    assert ("recurrences", "create", task["id"]) in [(e["type"], e["op"], e["id"]) for e in entries]
