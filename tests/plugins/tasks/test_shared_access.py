"""Task: T-320, T-321
Spec: specs/features/sharing.md §The access rule

The kernel's access rule on the tasks plugin's shared rows, with memberships written straight
into `list_members`: a member reaches a list's tasks at their role, a stranger finds nothing.
"""

from tests.plugins.tasks.conftest import TASKS, User

LISTS = "/api/v1/lists"


async def shared_list(owner: User, member: User, role: str, db) -> str:
    made = await owner.post(LISTS, json={"name": "Groceries"})
    assert made.status_code == 201, made.text
    list_id = made.json()["id"]
    await db.execute(
        "INSERT INTO list_members (list_id, user_id, member_id, role) VALUES ($1, $2, $3, $4)",
        list_id,
        owner.id,
        member.id,
        role,
    )
    return list_id


async def test_an_editor_reads_and_writes_the_lists_tasks(alice: User, bob: User, db):
    list_id = await shared_list(alice, bob, "editor", db)
    mine = await alice.create(title="milk", list_id=list_id)
    assert [t["id"] for t in (await bob.get(TASKS, params={"list_id": list_id})).json()] == [
        mine["id"]
    ]
    theirs = await bob.create(title="eggs", list_id=list_id)
    row = await db.fetchrow("SELECT user_id FROM tasks WHERE id = $1", theirs["id"])
    assert row["user_id"] == alice.id  # the list's owner, whoever wrote it
    assert (await bob.patch(f"{TASKS}/{mine['id']}", json={"title": "oat milk"})).status_code == 200
    assert (await alice.get(f"{TASKS}/{mine['id']}")).json()["title"] == "oat milk"
    assert (await bob.get(f"{LISTS}/{list_id}")).status_code == 200
    renamed = await bob.patch(f"{LISTS}/{list_id}", json={"name": "mine now"})
    assert renamed.status_code == 403, renamed.text
    assert renamed.headers["content-type"] == "application/problem+json"
    assert (await bob.delete(f"{TASKS}/{theirs['id']}")).status_code == 204


async def test_a_viewer_reads_and_is_refused_every_write(alice: User, bob: User, db):
    list_id = await shared_list(alice, bob, "viewer", db)
    task = await alice.create(title="milk", list_id=list_id)
    assert (await bob.get(f"{TASKS}/{task['id']}")).status_code == 200
    assert (await bob.patch(f"{TASKS}/{task['id']}", json={"title": "x"})).status_code == 403
    assert (await bob.delete(f"{TASKS}/{task['id']}")).status_code == 403
    created = await bob.post(TASKS, json={"title": "x", "list_id": list_id})
    assert created.status_code == 403, created.text
    assert (await alice.get(f"{TASKS}/{task['id']}")).json()["title"] == "milk"


async def test_a_stranger_finds_nothing(alice: User, bob: User, user_factory, db):
    carol = await user_factory()
    list_id = await shared_list(alice, bob, "editor", db)
    task = await alice.create(title="milk", list_id=list_id)
    assert (await carol.get(f"{TASKS}/{task['id']}")).status_code == 404
    assert (await carol.get(f"{LISTS}/{list_id}")).status_code == 404
    assert (await carol.patch(f"{TASKS}/{task['id']}", json={"title": "x"})).status_code == 404
    assert (await carol.get(TASKS, params={"list_id": list_id})).json() == []
    refused = await carol.post(TASKS, json={"title": "x", "list_id": list_id})
    assert refused.status_code in {404, 422}, refused.text
