"""Task: T-350, T-351, T-352, T-353, T-354, T-355
Spec: specs/features/sharing.md §Tasks in shared lists; specs/api/rest-endpoints.md §Tasks

Tasks in a shared list: each role's rights on every task route, who did what (`created_by`,
`updated_by`, `completed_by`), assignees, the `assignee` filter, and moves between lists of
different owners. Memberships are written straight into `list_members`.
"""

from typing import Any

import pytest

from tests.plugins.tasks.conftest import TASKS, User
from tests.plugins.tasks.test_shared_access import LISTS, shared_list

BATCH = f"{TASKS}/batch"


async def stored(db, task_id: str) -> dict[str, Any] | None:
    row = await db.fetchrow("SELECT * FROM tasks WHERE id = $1", task_id)
    return None if row is None else dict(row)


async def tasks_of(db, user_id: str) -> list[dict[str, Any]]:
    rows = await db.fetch("SELECT * FROM tasks WHERE user_id = $1 ORDER BY id", user_id)
    return [dict(row) for row in rows]


# --- who did what -------------------------------------------------------------------------


async def test_a_private_task_is_created_changed_and_completed_by_its_owner(alice: User):
    task = await alice.create(title="milk")
    assert task["created_by"] == task["updated_by"] == alice.id
    assert task["completed_by"] is None and task["assignee_id"] is None
    done = (await alice.patch(f"{TASKS}/{task['id']}/complete")).json()
    assert done["completed_by"] == alice.id
    born_done = await alice.create(title="done already", completed=True)
    assert born_done["completed_by"] == alice.id


async def test_every_write_names_the_caller(alice: User, bob: User, db):
    list_id = await shared_list(alice, bob, "editor", db)
    task = await bob.create(title="eggs", list_id=list_id)
    assert task["user_id"] == alice.id  # the list's owner
    assert task["created_by"] == task["updated_by"] == bob.id
    assert task["completed_by"] is None

    renamed = (await alice.patch(f"{TASKS}/{task['id']}", json={"title": "six eggs"})).json()
    assert (renamed["created_by"], renamed["updated_by"]) == (bob.id, alice.id)

    done = (await bob.patch(f"{TASKS}/{task['id']}/complete")).json()
    assert (done["completed_by"], done["updated_by"]) == (bob.id, bob.id)

    reopened = (await alice.patch(f"{TASKS}/{task['id']}", json={"completed": False})).json()
    assert reopened["completed_by"] is None and reopened["updated_by"] == alice.id

    other = await alice.create(title="bread", list_id=list_id)
    moved = await bob.post(f"{TASKS}/{task['id']}/move", json={"after": other["id"]})
    assert moved.status_code == 200, moved.text
    assert moved.json()["updated_by"] == bob.id

    # The stored row says the same as the answers.
    row = await stored(db, task["id"])
    assert row is not None
    assert (row["created_by"], row["updated_by"], row["completed_by"]) == (bob.id, bob.id, None)


async def test_a_completed_parent_completes_its_subtree_in_the_callers_name(
    alice: User, bob: User, db
):
    list_id = await shared_list(alice, bob, "editor", db)
    parent = await alice.create(title="party", list_id=list_id)
    child = await alice.create(title="cake", parent_id=parent["id"])
    assert (await bob.patch(f"{TASKS}/{parent['id']}/complete")).status_code == 200
    row = await stored(db, child["id"])
    assert row is not None and row["completed"]
    assert (row["completed_by"], row["updated_by"]) == (bob.id, bob.id)


async def test_a_batch_names_the_caller_in_each_row(alice: User, bob: User, db):
    list_id = await shared_list(alice, bob, "editor", db)
    a = await alice.create(title="a", list_id=list_id)
    b = await alice.create(title="b", list_id=list_id)
    c = await alice.create(title="c", list_id=list_id)
    response = await bob.post(
        BATCH,
        json={
            "operations": [
                {"op": "create", "task": {"title": "new", "list_id": list_id}},
                {"op": "create", "task": {"title": "done", "list_id": list_id, "completed": True}},
                {"op": "update", "id": a["id"], "changes": {"title": "a2"}},
                {"op": "complete", "id": b["id"]},
                {"op": "move", "id": c["id"], "before": a["id"]},
            ]
        },
    )
    assert response.status_code == 200, response.text
    results = [result["body"] for result in response.json()["results"]]
    created, born_done, updated, completed, moved = results
    assert created["user_id"] == alice.id
    assert created["created_by"] == created["updated_by"] == bob.id
    assert created["completed_by"] is None
    assert born_done["completed_by"] == bob.id
    assert (updated["created_by"], updated["updated_by"]) == (alice.id, bob.id)
    assert completed["completed_by"] == completed["updated_by"] == bob.id
    assert moved["updated_by"] == bob.id

    reopened = await alice.post(
        BATCH,
        json={"operations": [{"op": "update", "id": b["id"], "changes": {"completed": False}}]},
    )
    body = reopened.json()["results"][0]["body"]
    assert body["completed_by"] is None and body["updated_by"] == alice.id


async def test_an_idempotent_create_replays_the_actors(alice: User, bob: User, db):
    list_id = await shared_list(alice, bob, "editor", db)
    headers = {"Idempotency-Key": "shared-1"}
    body = {"title": "eggs", "list_id": list_id}
    first = await bob.post(TASKS, json=body, headers=headers)
    again = await bob.post(TASKS, json=body, headers=headers)
    assert first.status_code == again.status_code == 201, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    for response in (first, again):
        task = response.json()
        assert task["created_by"] == task["updated_by"] == bob.id
        assert task["user_id"] == alice.id
    assert again.json() == first.json()


async def test_the_change_feed_shows_the_actors(alice: User, bob: User, db):
    list_id = await shared_list(alice, bob, "editor", db)
    task = await bob.create(title="eggs", list_id=list_id, assignee_id=alice.id)
    changes = await alice.get("/api/v1/changes")
    assert changes.status_code == 200, changes.text
    [entry] = [c for c in changes.json()["changes"] if c.get("id") == task["id"]]
    data = entry["data"]
    assert (data["created_by"], data["updated_by"], data["assignee_id"]) == (
        bob.id,
        bob.id,
        alice.id,
    )


# --- each role's rights on every task route ----------------------------------------------


ROLES = ["editor", "viewer", "stranger"]


@pytest.fixture
async def carol(user_factory) -> User:
    return await user_factory()


async def as_role(alice: User, other: User, role: str, db) -> str:
    """A list of Alice's that `other` is a member of at `role` (a stranger: not at all)."""
    if role == "stranger":
        made = await alice.post(LISTS, json={"name": "Groceries"})
        assert made.status_code == 201, made.text
        return str(made.json()["id"])
    return await shared_list(alice, other, role, db)


def refused(role: str) -> int:
    return 403 if role == "viewer" else 404


@pytest.mark.parametrize("role", ROLES)
async def test_reading(alice: User, bob: User, db, role: str):
    list_id = await as_role(alice, bob, role, db)
    task = await alice.create(title="milk", list_id=list_id)
    got = await bob.get(f"{TASKS}/{task['id']}")
    listed = (await bob.get(TASKS, params={"list_id": list_id})).json()
    if role == "stranger":
        assert got.status_code == 404 and listed == []
    else:
        assert got.status_code == 200 and [t["id"] for t in listed] == [task["id"]]


@pytest.mark.parametrize("role", ROLES)
async def test_creating(alice: User, bob: User, db, role: str):
    list_id = await as_role(alice, bob, role, db)
    response = await bob.post(TASKS, json={"title": "eggs", "list_id": list_id})
    if role == "editor":
        assert response.status_code == 201, response.text
        assert response.json()["user_id"] == alice.id
        return
    # A stranger's list is "not one of yours", as a list that does not exist.
    assert response.status_code == (403 if role == "viewer" else 422), response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert await tasks_of(db, alice.id) == [] and await tasks_of(db, bob.id) == []


WRITES: list[tuple[str, str, str, dict[str, Any] | None, int]] = [
    # (name, method, path after the task's, body, an editor's status)
    ("patch", "PATCH", "", {"title": "changed"}, 200),
    ("put", "PUT", "", {"priority": "high"}, 200),
    ("complete", "PATCH", "/complete", None, 200),
    ("reopen", "PATCH", "", {"completed": False}, 200),
    ("move", "POST", "/move", {"before": None}, 200),
    ("delete", "DELETE", "", None, 204),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("write", WRITES, ids=[w[0] for w in WRITES])
async def test_writing(alice: User, bob: User, db, role: str, write):
    name, method, path, body, status = write
    list_id = await as_role(alice, bob, role, db)
    task = await alice.create(title="milk", list_id=list_id, completed=name == "reopen")
    await alice.create(title="bread", list_id=list_id)  # a sibling, so a move changes something
    before = await stored(db, task["id"])
    response = await bob.request(method, f"{TASKS}/{task['id']}{path}", json=body)
    if role == "editor":
        assert response.status_code == status, response.text
        return
    assert response.status_code == refused(role), response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert await stored(db, task["id"]) == before  # nothing changed


@pytest.mark.parametrize("role", ROLES)
async def test_if_match(alice: User, bob: User, db, role: str):
    list_id = await as_role(alice, bob, role, db)
    task = await alice.create(title="milk", list_id=list_id)
    tag = f'"{task["id"]}.{task["version"]}"'
    before = await stored(db, task["id"])
    stale = await bob.patch(
        f"{TASKS}/{task['id']}", json={"title": "x"}, headers={"If-Match": f'"{task["id"]}.9"'}
    )
    current = await bob.patch(
        f"{TASKS}/{task['id']}", json={"title": "x"}, headers={"If-Match": tag}
    )
    if role == "editor":
        assert (stale.status_code, current.status_code) == (412, 200), current.text
        return
    # A stale tag matches no row before the role is asked: a viewer, who reads the version
    # anyway, learns it is stale (412); with the current one they are refused (403).
    assert stale.status_code == (412 if role == "viewer" else 404), stale.text
    assert current.status_code == refused(role), current.text
    assert await stored(db, task["id"]) == before


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("atomic", [True, False])
async def test_batch(alice: User, bob: User, db, role: str, atomic: bool):
    list_id = await as_role(alice, bob, role, db)
    a = await alice.create(title="a", list_id=list_id)
    b = await alice.create(title="b", list_id=list_id)
    c = await alice.create(title="c", list_id=list_id)
    d = await alice.create(title="d", list_id=list_id)
    before = await tasks_of(db, alice.id)
    response = await bob.post(
        BATCH,
        json={
            "atomic": atomic,
            "operations": [
                {"op": "update", "id": a["id"], "changes": {"title": "a2"}},
                {"op": "complete", "id": b["id"]},
                {"op": "delete", "id": c["id"]},
                {"op": "move", "id": d["id"], "after": None},
            ],
        },
    )
    if role == "editor":
        assert response.status_code == 200, response.text
        assert [r["status"] for r in response.json()["results"]] == [200, 200, 204, 200]
        return
    if role == "viewer":
        # The whole batch is refused: one statement writes all of its updates, and a role too
        # low for one row stops it (sharing.md §Tasks in shared lists).
        assert response.status_code == 403, response.text
    else:
        assert response.status_code == 200, response.text
        assert {r["status"] for r in response.json()["results"]} == {404}
    assert await tasks_of(db, alice.id) == before


async def test_a_viewers_create_in_a_batch_is_refused(alice: User, bob: User, db):
    list_id = await shared_list(alice, bob, "viewer", db)
    response = await bob.post(
        BATCH,
        json={"operations": [{"op": "create", "task": {"title": "x", "list_id": list_id}}]},
    )
    assert response.status_code == 403, response.text
    assert await tasks_of(db, alice.id) == [] and await tasks_of(db, bob.id) == []


# --- moves between lists of different owners ---------------------------------------------


async def test_a_task_moved_into_a_shared_list_follows_its_owner(alice: User, bob: User, db):
    theirs = await shared_list(alice, bob, "editor", db)
    mine = (await bob.post(LISTS, json={"name": "Bob's"})).json()["id"]
    parent = await bob.create(title="party", list_id=mine)
    child = await bob.create(title="cake", parent_id=parent["id"])
    grandchild = await bob.create(title="candles", parent_id=child["id"])
    moved = await bob.post(f"{TASKS}/{parent['id']}/move", json={"list_id": theirs})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["user_id"], moved.json()["list_id"]) == (alice.id, theirs)
    for task in (parent, child, grandchild):
        row = await stored(db, task["id"])
        assert row is not None
        assert (row["user_id"], row["list_id"]) == (alice.id, theirs), task["title"]
    # The owner sees the subtree in her list, as her own.
    listed = (await alice.get(TASKS, params={"list_id": theirs})).json()
    assert {t["id"] for t in listed} == {parent["id"], child["id"], grandchild["id"]}
    assert (await bob.get(TASKS, params={"list_id": mine})).json() == []


async def test_a_viewer_cannot_move_a_task_into_the_list(alice: User, bob: User, db):
    theirs = await shared_list(alice, bob, "viewer", db)
    task = await bob.create(title="mine")
    before = await stored(db, task["id"])
    moved = await bob.post(f"{TASKS}/{task['id']}/move", json={"list_id": theirs})
    assert moved.status_code == 403, moved.text
    assert await stored(db, task["id"]) == before


async def test_a_stranger_cannot_move_a_task_into_a_list(alice: User, bob: User, db):
    theirs = (await alice.post(LISTS, json={"name": "Alice's"})).json()["id"]
    task = await bob.create(title="mine")
    moved = await bob.post(f"{TASKS}/{task['id']}/move", json={"list_id": theirs})
    assert moved.status_code == 422, moved.text
    assert moved.json()["errors"][0]["loc"] == ["body", "list_id"]
    assert (await stored(db, task["id"]) or {})["user_id"] == bob.id


# --- assignees ----------------------------------------------------------------------------


async def test_the_owner_and_a_member_may_be_assigned(alice: User, bob: User, db):
    list_id = await shared_list(alice, bob, "viewer", db)
    to_bob = await alice.create(title="eggs", list_id=list_id, assignee_id=bob.id)
    assert to_bob["assignee_id"] == bob.id
    to_alice = await alice.patch(f"{TASKS}/{to_bob['id']}", json={"assignee_id": alice.id})
    assert to_alice.status_code == 200 and to_alice.json()["assignee_id"] == alice.id
    nobody = await alice.patch(f"{TASKS}/{to_bob['id']}", json={"assignee_id": None})
    assert nobody.status_code == 200 and nobody.json()["assignee_id"] is None
    # In a private list, only its owner.
    assert (await alice.create(title="mine", assignee_id=alice.id))["assignee_id"] == alice.id


@pytest.mark.parametrize("assignee", ["stranger", "unknown"])
async def test_anyone_else_is_a_422_naming_assignee_id(
    alice: User, bob: User, carol: User, db, assignee: str
):
    list_id = await shared_list(alice, bob, "editor", db)
    who = carol.id if assignee == "stranger" else "no-such-user"
    task = await alice.create(title="eggs", list_id=list_id)
    before = await stored(db, task["id"])
    for response in (
        await bob.post(TASKS, json={"title": "x", "list_id": list_id, "assignee_id": who}),
        await bob.patch(f"{TASKS}/{task['id']}", json={"assignee_id": who}),
    ):
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["loc"] == ["body", "assignee_id"]
        assert "user" not in response.json()["detail"].lower() or who not in response.text
    assert await stored(db, task["id"]) == before
    assert len(await tasks_of(db, alice.id)) == 1


@pytest.mark.parametrize("atomic", [True, False])
async def test_a_batch_refuses_an_assignee_by_operation(
    alice: User, bob: User, carol: User, db, atomic: bool
):
    list_id = await shared_list(alice, bob, "editor", db)
    task = await alice.create(title="eggs", list_id=list_id)
    response = await bob.post(
        BATCH,
        json={
            "atomic": atomic,
            "operations": [
                {"op": "create", "task": {"title": "x", "list_id": list_id, "assignee_id": bob.id}},
                {"op": "update", "id": task["id"], "changes": {"assignee_id": carol.id}},
                {
                    "op": "create",
                    "task": {"title": "y", "list_id": list_id, "assignee_id": carol.id},
                },
            ],
        },
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert results[2]["status"] == 422
    assert results[2]["body"]["errors"][0]["loc"] == ["task", "assignee_id"]
    if atomic:  # the first refusal stops it: the others are not applied
        assert [r["status"] for r in results[:2]] == [424, 424]
        assert len(await tasks_of(db, alice.id)) == 1
    else:
        assert results[1]["status"] == 422
        assert results[1]["body"]["errors"][0]["loc"] == ["changes", "assignee_id"]
        assert results[0]["status"] == 201 and results[0]["body"]["assignee_id"] == bob.id
        assert len(await tasks_of(db, alice.id)) == 2
    assert (await stored(db, task["id"]) or {})["assignee_id"] is None


async def test_a_removed_member_is_unassigned(alice: User, bob: User, db):
    list_id = await shared_list(alice, bob, "editor", db)
    task = await bob.create(title="eggs", list_id=list_id, assignee_id=bob.id)
    await db.execute(
        "DELETE FROM list_members WHERE list_id = $1 AND member_id = $2", list_id, bob.id
    )
    after = (await alice.get(f"{TASKS}/{task['id']}")).json()
    assert after["assignee_id"] is None and after["version"] > task["version"]
    # Nor can they be assigned again.
    again = await alice.patch(f"{TASKS}/{task['id']}", json={"assignee_id": bob.id})
    assert again.status_code == 422, again.text


async def test_a_task_moved_to_a_list_its_assignee_is_not_in_loses_them(alice: User, bob: User, db):
    shared = await shared_list(alice, bob, "editor", db)
    private = (await alice.post(LISTS, json={"name": "Mine"})).json()["id"]
    task = await alice.create(title="eggs", list_id=shared, assignee_id=bob.id)
    moved = await alice.post(f"{TASKS}/{task['id']}/move", json={"list_id": private})
    assert moved.status_code == 200, moved.text
    assert moved.json()["assignee_id"] is None


# --- the assignee filter ------------------------------------------------------------------


async def test_the_assignee_filter(alice: User, bob: User, db):
    list_id = await shared_list(alice, bob, "editor", db)
    for_bob = [
        await alice.create(title=f"bob {n}", list_id=list_id, assignee_id=bob.id) for n in range(3)
    ]
    for_alice = await alice.create(title="alice", list_id=list_id, assignee_id=alice.id)
    await alice.create(title="nobody's", list_id=list_id)
    mine = await bob.get(TASKS, params={"assignee": "me"})
    assert {t["id"] for t in mine.json()} == {t["id"] for t in for_bob}
    hers = await bob.get(TASKS, params={"assignee": alice.id})
    assert [t["id"] for t in hers.json()] == [for_alice["id"]]
    assert [t["id"] for t in (await alice.get(TASKS, params={"assignee": "me"})).json()] == [
        for_alice["id"]
    ]
    assert (await bob.get(TASKS, params={"assignee": "nobody"})).json() == []
    bad = await bob.get(TASKS, params={"assignee": ""})
    assert bad.status_code == 422


async def test_the_assignee_filter_pages_with_its_cursor(alice: User, bob: User, db):
    list_id = await shared_list(alice, bob, "editor", db)
    expected = {
        (await alice.create(title=f"bob {n}", list_id=list_id, assignee_id=bob.id))["id"]
        for n in range(5)
    }
    await alice.create(title="nobody's", list_id=list_id)
    page = await bob.get(TASKS, params={"assignee": "me", "limit": 2})
    seen: list[str] = []
    while True:
        assert page.status_code == 200, page.text
        seen += [t["id"] for t in page.json()]
        if "link" not in page.headers:
            break
        page = await bob.get(page.headers["link"].split(">")[0].lstrip("<"))
    assert sorted(seen) == sorted(expected) and len(seen) == len(expected)
    first = await bob.get(TASKS, params={"assignee": "me", "limit": 2})
    cursor = first.headers["link"].split("cursor=")[1].split(">")[0]
    other = await bob.get(TASKS, params={"assignee": alice.id, "cursor": cursor})
    assert other.status_code == 422, other.text
