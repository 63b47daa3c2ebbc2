"""Task: T-296
Spec: specs/api/rest-endpoints.md §Subtasks

Subtasks: `parent_id` on create, PUT, PATCH and batch; the tree's rules (same owner, no cycle,
at most 4 levels deep, the moved subtree's height counted), each a 422 naming `parent_id`;
the filters; a completed task's subtree completed in the same statement; a deleted task's
subtree deleted with a tombstone each; a moved task's subtree following it.
"""

import asyncio
from typing import Any

from app.testing import assert_isolated
from tests.plugins.changes.conftest import feed
from tests.plugins.tasks.conftest import TASKS, User, sign_up
from tests.plugins.tasks.sharing import not_found, sharing_bodies, sharing_values

LISTS = "/api/v1/lists"


async def chain(user: User, length: int) -> list[dict[str, Any]]:
    """`length` tasks, each a subtask of the one before."""
    tasks = [await user.create(title="level 0")]
    for depth in range(1, length):
        tasks.append(await user.create(title=f"level {depth}", parent_id=tasks[-1]["id"]))
    return tasks


def refused(response: Any, loc: list[str] | None = None) -> str:
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["loc"] == (loc or ["body", "parent_id"])
    return error["msg"]


async def test_a_subtask_names_its_parent_and_a_plain_task_none(alice: User):
    parent = await alice.create()
    assert parent["parent_id"] is None
    child = await alice.create(parent_id=parent["id"])
    assert child["parent_id"] == parent["id"]
    assert (await alice.get(f"{TASKS}/{child['id']}")).json()["parent_id"] == parent["id"]


async def test_four_levels_below_the_top_and_no_more(alice: User):
    tasks = await chain(alice, 5)  # depths 0..4
    assert [t["parent_id"] for t in tasks[1:]] == [t["id"] for t in tasks[:-1]]
    response = await alice.post(TASKS, json={"title": "too deep", "parent_id": tasks[-1]["id"]})
    assert "4 levels" in refused(response)
    assert len((await alice.get(TASKS)).json()) == 5  # nothing was created


async def test_a_move_counts_the_height_of_the_moved_subtree(alice: User):
    deep = await chain(alice, 3)  # depths 0..2
    subtree = await chain(alice, 3)  # a task with two levels below it
    # Under depth 1: the moved task at 2, its deepest subtask at 4.
    moved = await alice.patch(f"{TASKS}/{subtree[0]['id']}", json={"parent_id": deep[1]["id"]})
    assert moved.status_code == 200, moved.text
    await alice.patch(f"{TASKS}/{subtree[0]['id']}", json={"parent_id": None})
    # Under depth 2: its deepest would be at 5.
    response = await alice.put(f"{TASKS}/{subtree[0]['id']}", json={"parent_id": deep[2]["id"]})
    assert "4 levels" in refused(response)
    assert (await alice.get(f"{TASKS}/{subtree[0]['id']}")).json()["parent_id"] is None


async def test_a_task_cannot_go_under_itself_or_its_subtasks(alice: User):
    tasks = await chain(alice, 3)
    for below in tasks:
        response = await alice.patch(f"{TASKS}/{tasks[0]['id']}", json={"parent_id": below["id"]})
        assert "cycle" in refused(response)
    assert (await alice.get(f"{TASKS}/{tasks[0]['id']}")).json()["version"] == 1


async def test_another_users_task_is_no_parent_and_says_nothing_of_it(alice: User, bob: User):
    alices = await alice.create()
    bobs = await bob.create()
    unknown = "3f2b8c1e-7d4a-4e1b-9a65-0c2d5e8f1a47"
    messages = {
        refused(await bob.post(TASKS, json={"title": "x", "parent_id": alices["id"]})),
        refused(await bob.patch(f"{TASKS}/{bobs['id']}", json={"parent_id": alices["id"]})),
        refused(await bob.post(TASKS, json={"title": "x", "parent_id": unknown})),
        refused(await bob.post(TASKS, json={"title": "x", "parent_id": "not an id"})),
    }
    assert messages == {"no such task of yours"}  # another's task is the same as none
    assert (await alice.get(f"{TASKS}/{alices['id']}")).json()["version"] == 1
    long = await bob.post(TASKS, json={"title": "x", "parent_id": "a" * 37})
    assert long.status_code == 422
    nul = await bob.post(TASKS, json={"title": "x", "parent_id": "a\u0000"})
    assert nul.status_code == 422


async def test_filters_children_and_top_level(alice: User):
    top = await alice.create(title="top")
    child = await alice.create(title="child", parent_id=top["id"])
    grandchild = await alice.create(title="grandchild", parent_id=child["id"])
    other = await alice.create(title="other")

    async def ids(**params: Any) -> list[str]:
        response = await alice.get(TASKS, params={"sort": "created_at", **params})
        assert response.status_code == 200, response.text
        return [t["id"] for t in response.json()]

    assert await ids(parent_id=top["id"]) == [child["id"]]  # children, not grandchildren
    assert await ids(parent_id=child["id"]) == [grandchild["id"]]
    assert await ids(parent_id=other["id"]) == []
    assert await ids(top_level="true") == [top["id"], other["id"]]
    assert await ids(top_level="false") == [child["id"], grandchild["id"]]
    assert len(await ids()) == 4  # without them, as before
    # A page at a time, the cursor keeping the filter.
    first = await alice.get(TASKS, params={"top_level": "true", "limit": 1, "sort": "title"})
    assert [t["id"] for t in first.json()] == [other["id"]]
    following = await alice.get(first.links["next"]["url"])
    assert [t["id"] for t in following.json()] == [top["id"]]


async def test_completing_completes_the_open_subtree_in_one_statement(make_client, statements):
    # Tasks alone: no plugin subscribes to completions (recurring would make it a transaction).
    alice = await sign_up(await make_client(enabled=("health", "auth", "tasks")))
    root = await alice.create(title="root")
    children = [await alice.create(title=f"c{i}", parent_id=root["id"]) for i in range(10)]
    grandchildren = [
        await alice.create(title=f"g{i}", parent_id=children[i % 10]["id"]) for i in range(30)
    ]
    done_already = await alice.create(title="done", parent_id=children[0]["id"], completed=True)
    great = [
        await alice.create(title=f"gg{i}", parent_id=grandchildren[i]["id"]) for i in range(10)
    ]
    descendants = children + grandchildren + great
    assert len(descendants) == 50
    statements.clear()
    response = await alice.patch(f"{TASKS}/{root['id']}", json={"completed": True})
    assert response.status_code == 200, response.text
    assert statements.verbs() == ["UPDATE"]
    completed_at = response.json()["completed_at"]
    rows = {t["id"]: t for t in (await alice.get(TASKS, params={"limit": 500})).json()}
    for task in descendants:
        row = rows[task["id"]]
        assert row["completed"] and row["completed_at"] == completed_at, row
        assert row["version"] == 2
    assert rows[done_already["id"]]["version"] == 1  # already done: untouched


async def test_the_complete_route_and_the_batch_complete_subtrees(alice: User, statements):
    for how in ("route", "batch"):
        root = await alice.create()
        child = await alice.create(parent_id=root["id"])
        grandchild = await alice.create(parent_id=child["id"])
        statements.clear()
        if how == "route":
            response = await alice.patch(f"{TASKS}/{root['id']}/complete")
            assert response.status_code == 200
            # The transaction is the recurring plugin's (a subscriber of completions).
            assert statements.verbs() == ["BEGIN", "UPDATE", "COMMIT"]
        else:
            body = {"operations": [{"op": "complete", "id": root["id"]}]}
            response = await alice.post(f"{TASKS}/batch", json=body)
            assert response.json()["results"][0]["status"] == 200
        for task in (child, grandchild):
            assert (await alice.get(f"{TASKS}/{task['id']}")).json()["completed"], how


async def test_reopening_a_parent_leaves_its_subtasks_done(alice: User):
    root = await alice.create()
    child = await alice.create(parent_id=root["id"])
    await alice.patch(f"{TASKS}/{root['id']}", json={"completed": True})
    reopened = await alice.patch(f"{TASKS}/{root['id']}", json={"completed": False})
    assert reopened.json()["completed"] is False
    assert (await alice.get(f"{TASKS}/{child['id']}")).json()["completed"] is True


async def test_deleting_deletes_the_subtree_with_a_tombstone_each(alice: User, bob: User):
    _, since = await feed(alice)
    root, child, grandchild = await chain(alice, 3)
    bystander = await alice.create(title="bystander")
    await bob.create(title="bob's")
    assert (await alice.delete(f"{TASKS}/{root['id']}")).status_code == 204
    for task in (root, child, grandchild):
        assert (await alice.get(f"{TASKS}/{task['id']}")).status_code == 404
    assert [t["id"] for t in (await alice.get(TASKS)).json()] == [bystander["id"]]
    entries, _ = await feed(alice, since)
    tombstones = {e["id"] for e in entries if e["op"] == "delete"}
    assert tombstones == {root["id"], child["id"], grandchild["id"]}


async def test_moving_a_task_moves_its_subtree(alice: User):
    old, new = await alice.create(title="old"), await alice.create(title="new")
    task = await alice.create(parent_id=old["id"])
    below = await alice.create(parent_id=task["id"])
    moved = await alice.patch(f"{TASKS}/{task['id']}", json={"parent_id": new["id"]})
    assert moved.json()["parent_id"] == new["id"] and moved.json()["version"] == 2
    assert (await alice.get(f"{TASKS}/{below['id']}")).json()["parent_id"] == task["id"]
    children = await alice.get(TASKS, params={"parent_id": new["id"]})
    assert [t["id"] for t in children.json()] == [task["id"]]
    # Deleting the old parent now leaves them; deleting the new one takes them along.
    await alice.delete(f"{TASKS}/{old['id']}")
    assert (await alice.get(f"{TASKS}/{below['id']}")).status_code == 200
    await alice.delete(f"{TASKS}/{new['id']}")
    assert (await alice.get(f"{TASKS}/{below['id']}")).status_code == 404
    # To the top level.
    top = await alice.create()
    sub = await alice.create(parent_id=top["id"])
    assert (await alice.patch(f"{TASKS}/{sub['id']}", json={"parent_id": None})).json()[
        "parent_id"
    ] is None


async def test_the_feed_carries_parent_id(alice: User):
    _, since = await feed(alice)
    parent = await alice.create()
    child = await alice.create(parent_id=parent["id"])
    entries, _ = await feed(alice, since)
    (entry,) = [e for e in entries if e["id"] == child["id"]]
    assert entry["data"]["parent_id"] == parent["id"]


async def test_batch_sets_parents_and_refuses_one_alone(alice: User):
    parent = await alice.create()
    other = await alice.create()
    deepest = (await chain(alice, 5))[-1]
    body = {
        "atomic": False,
        "operations": [
            {"op": "create", "task": {"title": "a", "parent_id": parent["id"]}},
            {"op": "create", "task": {"title": "too deep", "parent_id": deepest["id"]}},
            {"op": "update", "id": other["id"], "changes": {"parent_id": parent["id"]}},
            {"op": "update", "id": parent["id"], "changes": {"parent_id": other["id"]}},
        ],
    }
    response = await alice.post(f"{TASKS}/batch", json=body)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == [201, 422, 200, 422], results
    assert refused(_Body(results[1]["body"]), ["task", "parent_id"])
    assert "cycle" in refused(_Body(results[3]["body"]), ["changes", "parent_id"])
    children = await alice.get(TASKS, params={"parent_id": parent["id"], "sort": "created_at"})
    assert [t["id"] for t in children.json()] == [other["id"], results[0]["body"]["id"]]
    # Atomic: the refused one fails, every other is not applied.
    body = {
        "operations": [
            {"op": "create", "task": {"title": "b", "parent_id": parent["id"]}},
            {"op": "update", "id": parent["id"], "changes": {"parent_id": other["id"]}},
        ]
    }
    results = (await alice.post(f"{TASKS}/batch", json=body)).json()["results"]
    assert [r["status"] for r in results] == [424, 422]
    assert len((await alice.get(TASKS, params={"parent_id": parent["id"]})).json()) == 2


class _Body:
    """A batch result's body, read as a response is by `refused`."""

    status_code = 422

    def __init__(self, body: dict[str, Any]) -> None:
        self._body = body
        self.text = str(body)

    def json(self) -> dict[str, Any]:
        return self._body


async def test_concurrent_reparentings_never_make_a_cycle(alice: User):
    # 60 requests at once, in pairs that would each make the other's task its parent.
    tasks = [await alice.create(title=f"t{i}") for i in range(60)]

    async def under(task: dict[str, Any], parent: dict[str, Any]) -> int:
        response = await alice.patch(f"{TASKS}/{task['id']}", json={"parent_id": parent["id"]})
        return response.status_code

    pairs = [(tasks[i], tasks[i + 1]) for i in range(0, 60, 2)]
    statuses = await asyncio.gather(
        *(under(a, b) for a, b in pairs), *(under(b, a) for a, b in pairs)
    )
    assert set(statuses) <= {200, 422}
    parents = {
        t["id"]: t["parent_id"] for t in (await alice.get(TASKS, params={"limit": 500})).json()
    }
    for a, b in pairs:  # one of each pair won, the other was refused
        assert (parents[a["id"]] == b["id"]) != (parents[b["id"]] == a["id"])
    assert statuses.count(200) == 30


async def test_concurrent_moves_in_a_ring_never_make_a_cycle(alice: User):
    # 60 tasks, each moved under the next one at once: every move alone is fine, all together
    # they would close a ring. Some must be refused; no task may end up its own ancestor.
    tasks = [await alice.create(title=f"r{i}") for i in range(60)]

    async def under(index: int) -> int:
        task, parent = tasks[index], tasks[(index + 1) % 60]
        response = await alice.patch(f"{TASKS}/{task['id']}", json={"parent_id": parent["id"]})
        return response.status_code

    statuses = await asyncio.gather(*(under(i) for i in range(60)))
    assert set(statuses) <= {200, 422} and 422 in statuses
    parents = {
        t["id"]: t["parent_id"] for t in (await alice.get(TASKS, params={"limit": 500})).json()
    }
    for task in tasks:
        seen, current = set(), task["id"]
        while current is not None:
            assert current not in seen, "a cycle"
            seen.add(current)
            current = parents[current]
        assert len(seen) <= 5  # at most 4 levels below the top


async def test_isolation_with_subtasks(app, alice: User, bob: User):
    async def create(user: User) -> dict[str, str]:
        work = (await user.post(LISTS, json={"name": f"{user.email} work"})).json()["id"]
        parent = await user.create(title=f"{user.email} parent", list_id=work)
        task = await user.create(title=f"{user.email} task", parent_id=parent["id"])
        default = next(item["id"] for item in (await user.get(LISTS)).json() if item["is_default"])
        # The list routes need a list of the user's: the one both tasks are in.
        return {
            "task_id": task["id"],
            "parent": parent["id"],
            "list_id": task["list_id"],
            "default": default,
            **await sharing_values(user, work),
        }

    checked = await assert_isolated(
        app,
        alice,
        bob,
        plugin="tasks",
        create=create,
        body={"title": "hijacked", "completed": True},
        bodies={
            f"{TASKS}/{{task_id}}/move": {"after": None},
            f"{LISTS}/{{list_id}}/move": {"before": None},
            f"{LISTS}/{{list_id}}": {"name": "hijacked"},
            **sharing_bodies(bob),
        },
        detail=not_found,
        list_params=({}, {"top_level": True}, {"top_level": False}),
        rows=2,
    )
    assert sorted(checked.lists) == [LISTS, f"{LISTS}/{{list_id}}/invitations", TASKS]


async def test_a_subtask_is_always_in_its_parents_list(alice: User):
    made = await alice.post(LISTS, json={"name": "Work"})
    work = made.json()["id"]
    parent = await alice.create(title="report", list_id=work)
    child = await alice.create(title="outline", parent_id=parent["id"])  # no list_id
    assert child["list_id"] == work
    grandchild = await alice.create(title="intro", parent_id=child["id"], list_id=work)
    assert grandchild["list_id"] == work

    # A parent in another list given explicitly is a 422 naming parent_id; nothing is made.
    elsewhere = await alice.create(title="milk")  # the default list
    refused = await alice.post(
        TASKS, json={"title": "x", "parent_id": elsewhere["id"], "list_id": work}
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["loc"] == ["body", "parent_id"]
    assert {t["title"] for t in (await alice.get(TASKS)).json()} == {
        "report",
        "outline",
        "intro",
        "milk",
    }

    # A new parent takes the task, and its subtree, into the parent's list: each its version.
    _, since = await feed(alice)
    moved = await alice.patch(f"{TASKS}/{child['id']}", json={"parent_id": elsewhere["id"]})
    assert moved.status_code == 200, moved.text
    assert moved.json()["list_id"] == elsewhere["list_id"]
    below = (await alice.get(f"{TASKS}/{grandchild['id']}")).json()
    assert (
        below["list_id"] == elsewhere["list_id"] and below["version"] == grandchild["version"] + 1
    )
    changed, _ = await feed(alice, since)
    assert {(c["id"], c["data"]["list_id"]) for c in changed} == {
        (child["id"], elsewhere["list_id"]),
        (grandchild["id"], elsewhere["list_id"]),
    }
