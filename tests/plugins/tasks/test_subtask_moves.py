"""Task: T-315
Spec: specs/api/rest-endpoints.md §Order, §Subtasks

Moves among subtasks: a task's siblings are the tasks of its list under its parent; a move
naming `parent_id` puts it under that parent (null: the top level), in the parent's list, its
subtree along; a subtask moved to another list without a parent goes to that list's top level;
a list contradicting the parent's, a parent not yours, a cycle or a depth beyond 4 is a 422
naming `parent_id` that changes nothing; each move is one statement at the driver. And a task's
children in manual order, a page at a time.
"""

from typing import Any

from tests.plugins.tasks.conftest import TASKS, User

LISTS = "/api/v1/lists"


async def children(user: User, parent_id: str) -> list[str]:
    response = await user.get(TASKS, params={"parent_id": parent_id, "sort": "position"})
    assert response.status_code == 200, response.text
    return [task["title"] for task in response.json()]


async def top_level(user: User, list_id: str) -> list[str]:
    params = {"list_id": list_id, "top_level": True, "sort": "position"}
    response = await user.get(TASKS, params=params)
    assert response.status_code == 200, response.text
    return [task["title"] for task in response.json()]


async def move(user: User, task: dict[str, Any], **body: Any) -> dict[str, Any]:
    response = await user.post(f"{TASKS}/{task['id']}/move", json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def get(user: User, task: dict[str, Any]) -> dict[str, Any]:
    response = await user.get(f"{TASKS}/{task['id']}")
    assert response.status_code == 200, response.text
    return response.json()


def refused(response: Any, field: str) -> str:
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["loc"] == ["body", field], response.text
    return error["msg"]


async def test_siblings_are_the_children_of_one_parent(alice: User, statements):
    a = await alice.create(title="a")
    parent = await alice.create(title="p")
    c1, c2, c3 = [await alice.create(title=t, parent_id=parent["id"]) for t in ("c1", "c2", "c3")]
    statements.clear()
    moved = await move(alice, c3, after=c1["id"])
    assert statements.verbs() == ["UPDATE"]
    assert moved["parent_id"] == parent["id"] and moved["version"] == 2
    assert await children(alice, parent["id"]) == ["c1", "c3", "c2"]
    await move(alice, c2, after=None)  # the start among its siblings, not of the list
    assert await children(alice, parent["id"]) == ["c2", "c1", "c3"]
    await move(alice, c2)  # the end among its siblings
    assert await children(alice, parent["id"]) == ["c1", "c3", "c2"]
    # The same list named again keeps the parent.
    await move(alice, c1, list_id=a["list_id"], before=None)
    assert await children(alice, parent["id"]) == ["c3", "c2", "c1"]
    # A top-level task is no sibling of a subtask, nor a subtask of a top-level one.
    refused(await alice.post(f"{TASKS}/{c1['id']}/move", json={"after": a["id"]}), "after")
    refused(await alice.post(f"{TASKS}/{a['id']}/move", json={"before": c1["id"]}), "before")
    assert await top_level(alice, a["list_id"]) == ["a", "p"]


async def test_a_move_under_a_parent_and_back_to_the_top(alice: User, statements):
    a, b = await alice.create(title="a"), await alice.create(title="b")
    parent = await alice.create(title="p")
    first = await alice.create(title="first", parent_id=parent["id"])
    await alice.create(title="last", parent_id=parent["id"])
    below = await alice.create(title="below", parent_id=b["id"])
    statements.clear()
    moved = await move(alice, b, parent_id=parent["id"], after=first["id"])
    assert statements.verbs() == ["UPDATE"]
    assert moved["parent_id"] == parent["id"] and moved["version"] == 2
    assert await children(alice, parent["id"]) == ["first", "b", "last"]
    assert (await get(alice, below))["parent_id"] == b["id"]  # its subtree comes along
    assert await top_level(alice, a["list_id"]) == ["a", "p"]
    statements.clear()
    moved = await move(alice, b, parent_id=None, after=None)
    assert statements.verbs() == ["UPDATE"]
    assert moved["parent_id"] is None
    assert await top_level(alice, a["list_id"]) == ["b", "a", "p"]
    assert await children(alice, parent["id"]) == ["first", "last"]
    # Under a parent, neither neighbour given: the end among its children.
    await move(alice, a, parent_id=parent["id"])
    assert await children(alice, parent["id"]) == ["first", "last", "a"]


async def test_a_move_under_a_parent_in_another_list_takes_the_subtree(alice: User, statements):
    work = (await alice.post(LISTS, json={"name": "Work"})).json()["id"]
    report = await alice.create(title="report", list_id=work)
    outline = await alice.create(title="outline", parent_id=report["id"])
    task = await alice.create(title="task")  # the default list
    below = await alice.create(title="below", parent_id=task["id"])
    deepest = await alice.create(title="deepest", parent_id=below["id"])
    statements.clear()
    moved = await move(alice, task, parent_id=report["id"], before=outline["id"])
    assert statements.verbs() == ["UPDATE"]
    assert moved["list_id"] == work and moved["parent_id"] == report["id"]
    assert await children(alice, report["id"]) == ["task", "outline"]
    for row in (below, deepest):
        now = await get(alice, row)
        assert now["list_id"] == work and now["version"] == row["version"] + 1
    # Naming the parent's list as well is the same move.
    await move(alice, task, parent_id=report["id"], list_id=work, after=outline["id"])
    assert await children(alice, report["id"]) == ["outline", "task"]


async def test_a_subtask_moved_to_another_list_goes_to_its_top_level(alice: User, statements):
    parent = await alice.create(title="p")
    sub = await alice.create(title="sub", parent_id=parent["id"])
    below = await alice.create(title="below", parent_id=sub["id"])
    groceries = (await alice.post(LISTS, json={"name": "Groceries"})).json()["id"]
    milk = await alice.create(title="milk", list_id=groceries)
    statements.clear()
    moved = await move(alice, sub, list_id=groceries, after=milk["id"])
    assert statements.verbs() == ["UPDATE"]
    assert moved["list_id"] == groceries and moved["parent_id"] is None
    assert await top_level(alice, groceries) == ["milk", "sub"]
    now = await get(alice, below)
    assert now["list_id"] == groceries and now["parent_id"] == sub["id"]
    assert await children(alice, parent["id"]) == []
    # A neighbour under the old parent is no sibling in the new list's top level.
    back = await alice.create(title="back", parent_id=parent["id"])
    response = await alice.post(
        f"{TASKS}/{sub['id']}/move", json={"list_id": parent["list_id"], "after": back["id"]}
    )
    refused(response, "after")


async def test_refused_parents_change_nothing(alice: User, bob: User):
    work = (await alice.post(LISTS, json={"name": "Work"})).json()["id"]
    elsewhere = await alice.create(title="elsewhere", list_id=work)
    chain = [await alice.create(title="level 0")]
    for depth in range(1, 5):
        chain.append(await alice.create(title=f"level {depth}", parent_id=chain[-1]["id"]))
    task = await alice.create(title="task")
    under_task = await alice.create(title="under task", parent_id=task["id"])
    theirs = await bob.create(title="theirs")
    cases: list[tuple[dict[str, Any], dict[str, Any], str]] = [
        (task, {"parent_id": elsewhere["id"], "list_id": task["list_id"]}, "another one"),
        (task, {"parent_id": theirs["id"]}, "no such task"),
        (task, {"parent_id": "3f2b8c1e-7d4a-4e1b-9a65-0c2d5e8f1a47"}, "no such task"),
        (task, {"parent_id": theirs["id"], "list_id": task["list_id"]}, "no such task"),
        (task, {"parent_id": chain[4]["id"]}, "levels"),  # depth 5
        (chain[1], {"parent_id": chain[3]["id"]}, "cycle"),
        (chain[1], {"parent_id": chain[1]["id"]}, "cycle"),
        # at depth 2, with its 3 levels below: 5 deep
        (chain[1], {"parent_id": under_task["id"], "after": None}, "levels"),
    ]
    for moving, body, words in cases:
        response = await alice.post(f"{TASKS}/{moving['id']}/move", json=body)
        assert words in refused(response, "parent_id"), body
    assert (await get(alice, task)) == task
    assert (await get(alice, chain[1])) == chain[1]
    assert (await bob.get(f"{TASKS}/{theirs['id']}")).json() == theirs
    # A list not yours is still a 422 naming it; a neighbour under another parent names it.
    theirs_list = (await bob.post(LISTS, json={"name": "Bob's"})).json()["id"]
    response = await alice.post(f"{TASKS}/{task['id']}/move", json={"list_id": theirs_list})
    refused(response, "list_id")
    response = await alice.post(
        f"{TASKS}/{task['id']}/move", json={"parent_id": chain[0]["id"], "after": chain[2]["id"]}
    )
    refused(response, "after")


async def test_children_in_manual_order_a_page_at_a_time(alice: User, statements):
    parent = await alice.create(title="p")
    kids = [await alice.create(title=f"k{n}", parent_id=parent["id"]) for n in range(5)]
    await alice.create(title="top")
    await move(alice, kids[4], after=None)
    seen: list[str] = []
    url: str | None = TASKS
    params: dict[str, Any] | None = {"parent_id": parent["id"], "sort": "position", "limit": 2}
    statements.clear()
    page = await alice.get(url, params=params)
    assert statements.verbs() == ["SELECT"]
    while True:
        assert page.status_code == 200, page.text
        seen += [task["title"] for task in page.json()]
        url = page.links.get("next", {}).get("url")
        if url is None:
            break
        page = await alice.get(url)
    assert seen == ["k4", "k0", "k1", "k2", "k3"]
    reverse = await alice.get(TASKS, params={"parent_id": parent["id"], "sort": "-position"})
    assert [task["title"] for task in reverse.json()] == ["k3", "k2", "k1", "k0", "k4"]
    # The list's order is all its tasks, subtasks included (top_level=true: its top level).
    everything = await alice.get(TASKS, params={"list_id": parent["list_id"], "sort": "position"})
    assert len(everything.json()) == 7
    assert await top_level(alice, parent["list_id"]) == ["p", "top"]
    alone = await alice.get(TASKS, params={"sort": "position"})
    assert alone.status_code == 422 and "list_id or parent_id" in alone.text
