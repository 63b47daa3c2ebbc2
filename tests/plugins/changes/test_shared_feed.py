"""Task: T-344
Spec: specs/features/sharing.md §The feed

The feed of a shared list's members, with memberships written straight into `list_members`:
every member sees the list's changes, a joiner gets the list and its tasks, a leaver their
tombstones, a task moved out of the list leaves the members' feeds, and a transfer shows every
member the rows' new owner.
"""

from harness.sse import next_event
from tests.plugins.changes.conftest import feed
from tests.plugins.changes.test_stream import stream, user_on
from tests.plugins.tasks.conftest import TASKS, User

LISTS = "/api/v1/lists"
JOIN = "INSERT INTO list_members (list_id, user_id, member_id, role) VALUES ($1, $2, $3, $4)"
LEAVE = "DELETE FROM list_members WHERE list_id = $1 AND member_id = $2"


async def new_list(owner: User, name: str = "Groceries") -> str:
    made = await owner.post(LISTS, json={"name": name})
    assert made.status_code == 201, made.text
    return made.json()["id"]


def seen(entries: list[dict]) -> list[tuple[str, str, str]]:
    return [(entry["type"], entry["op"], entry["id"]) for entry in entries]


async def test_every_member_sees_the_changes_to_a_shared_lists_tasks(alice, bob, user_factory, db):
    carol = await user_factory()
    list_id = await new_list(alice)
    await db.execute(JOIN, list_id, alice.id, bob.id, "editor")
    await db.execute(JOIN, list_id, alice.id, carol.id, "viewer")
    _, bob_at = await feed(bob)
    _, carol_at = await feed(carol)
    _, alice_at = await feed(alice)
    task = await bob.create(title="milk", list_id=list_id)
    renamed = await alice.patch(f"{TASKS}/{task['id']}", json={"title": "oat milk"})
    assert renamed.status_code == 200
    assert (await bob.delete(f"{TASKS}/{task['id']}")).status_code == 204
    expected = [("tasks", op, task["id"]) for op in ("create", "update", "delete")]
    for user, since in ((alice, alice_at), (bob, bob_at), (carol, carol_at)):
        entries, _ = await feed(user, since)
        assert seen(entries) == expected
        assert entries[1]["data"]["title"] == "oat milk"


async def test_a_stranger_sees_nothing_of_a_shared_list(alice, bob, user_factory, db):
    carol = await user_factory()
    list_id = await new_list(alice)
    await db.execute(JOIN, list_id, alice.id, bob.id, "editor")
    _, carol_at = await feed(carol)
    await bob.create(title="milk", list_id=list_id)
    assert (await feed(carol, carol_at))[0] == []


async def test_a_joiner_gets_the_list_and_its_tasks_as_creates(alice, bob, db):
    list_id = await new_list(alice)
    tasks = [await alice.create(title=f"t{n}", list_id=list_id) for n in range(3)]
    await alice.patch(f"{TASKS}/{tasks[0]['id']}", json={"title": "renamed"})
    _, bob_at = await feed(bob)
    _, alice_at = await feed(alice)
    await db.execute(JOIN, list_id, alice.id, bob.id, "viewer")
    entries, _ = await feed(bob, bob_at)
    assert seen(entries) == [("lists", "create", list_id)] + [
        ("tasks", "create", task_id) for task_id in sorted(t["id"] for t in tasks)
    ]
    assert entries[0]["data"]["name"] == "Groceries"
    by_id = {entry["id"]: entry for entry in entries}
    assert by_id[tasks[0]["id"]]["data"]["title"] == "renamed"
    assert by_id[tasks[0]["id"]]["version"] == 2
    assert (await feed(alice, alice_at))[0] == []  # the owner's rows did not change


async def test_a_leaver_gets_tombstones_for_the_list_and_its_tasks(alice, bob, db):
    list_id = await new_list(alice)
    tasks = sorted([(await alice.create(list_id=list_id))["id"] for _ in range(3)])
    await db.execute(JOIN, list_id, alice.id, bob.id, "editor")
    _, bob_at = await feed(bob)
    _, alice_at = await feed(alice)
    await db.execute(LEAVE, list_id, bob.id)
    entries, bob_at = await feed(bob, bob_at)
    assert seen(entries) == [("lists", "delete", list_id)] + [
        ("tasks", "delete", task_id) for task_id in tasks
    ]
    assert all(entry["data"] is None for entry in entries)
    assert (await feed(alice, alice_at))[0] == []
    await alice.create(title="after", list_id=list_id)  # no longer Bob's to hear of
    assert (await feed(bob, bob_at))[0] == []


async def test_deleting_a_shared_list_gives_its_members_tombstones(alice, bob, db):
    list_id = await new_list(alice)
    task = await alice.create(list_id=list_id)
    await db.execute(JOIN, list_id, alice.id, bob.id, "editor")
    _, bob_at = await feed(bob)
    assert (await alice.delete(f"{LISTS}/{list_id}")).status_code == 204
    entries, _ = await feed(bob, bob_at)
    assert set(seen(entries)) == {("lists", "delete", list_id), ("tasks", "delete", task["id"])}


async def test_a_task_moved_out_of_a_shared_list_leaves_the_members_feeds(alice, bob, db):
    shared, private = await new_list(alice), await new_list(alice, "Mine")
    task = await alice.create(list_id=shared)
    await db.execute(JOIN, shared, alice.id, bob.id, "editor")
    _, bob_at = await feed(bob)
    _, alice_at = await feed(alice)
    moved = await alice.post(f"{TASKS}/{task['id']}/move", json={"list_id": private})
    assert moved.status_code == 200, moved.text
    assert seen((await feed(bob, bob_at))[0]) == [("tasks", "delete", task["id"])]
    assert seen((await feed(alice, alice_at))[0]) == [("tasks", "update", task["id"])]
    _, bob_at = await feed(bob)
    back = await alice.post(f"{TASKS}/{task['id']}/move", json={"list_id": shared})
    assert back.status_code == 200, back.text
    entries, _ = await feed(bob, bob_at)
    assert seen(entries) == [("tasks", "create", task["id"])]
    assert entries[0]["data"]["list_id"] == shared


# A transfer as one statement: the new owner's membership goes, the list (and, by its keys'
# cascade, every row of it) takes the new owner, the old owner becomes an editor.
TRANSFER = """
WITH gone AS (DELETE FROM list_members WHERE list_id = $1 AND member_id = $3),
moved AS (UPDATE lists SET user_id = $3 WHERE id = $1 AND user_id = $2)
INSERT INTO list_members (list_id, user_id, member_id, role) VALUES ($1, $3, $2, 'editor')
"""


async def test_a_transfer_shows_everyone_the_new_owner_and_drops_nothing(
    alice, bob, user_factory, db
):
    carol = await user_factory()
    list_id = await new_list(alice)
    task = await alice.create(list_id=list_id)
    await db.execute(JOIN, list_id, alice.id, bob.id, "editor")
    await db.execute(JOIN, list_id, alice.id, carol.id, "viewer")
    positions = {user.id: (await feed(user))[1] for user in (alice, bob, carol)}
    await db.execute(TRANSFER, list_id, alice.id, bob.id)
    for user in (alice, bob, carol):
        entries, _ = await feed(user, positions[user.id])
        ops = {(kind, entity_id): set() for kind, _, entity_id in seen(entries)}
        for kind, op, entity_id in seen(entries):
            ops[kind, entity_id].add(op)
        assert set(ops) == {("lists", list_id), ("tasks", task["id"])}, user
        assert all("delete" not in found for found in ops.values()), (user, entries)
        assert "update" in ops["tasks", task["id"]]
        last = [entry for entry in entries if entry["id"] == task["id"]][-1]
        assert last["data"]["title"] == task["title"]
    assert (await bob.get(f"{LISTS}/{list_id}")).status_code == 200
    assert (await alice.get(f"{TASKS}/{task['id']}")).status_code == 200


async def test_a_change_wakes_every_members_stream_on_another_instance(make_server, db):
    a, _ = await make_server()
    b, _ = await make_server()
    alice, bob, carol = await user_on(a), await user_on(a), await user_on(a)
    list_id = await new_list(alice)
    await db.execute(JOIN, list_id, alice.id, bob.id, "editor")
    await db.execute(JOIN, list_id, alice.id, carol.id, "viewer")
    async with stream(b, alice) as mine, stream(b, bob) as bobs, stream(b, carol) as carols:
        task = await bob.create(title="milk", list_id=list_id)
        for changes in (mine, bobs, carols):
            change = await next_event(changes)
            assert (change.data["type"], change.data["op"], change.data["id"]) == (
                "tasks",
                "create",
                task["id"],
            )
