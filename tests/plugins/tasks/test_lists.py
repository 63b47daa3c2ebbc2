"""Task: T-287
Spec: specs/api/rest-endpoints.md §Lists, §Order

Lists, tasks in lists and manual order: the default list made on first need (also by 60
concurrent first creates), its 409, deleting a list with its tasks (a tombstone each in the
feed), moves, 1,000 moves to one spot, and the statements each of these sends.
"""

import asyncio
from typing import Any

import httpx

from tests.plugins.tasks.conftest import TASKS, User, sign_up

LISTS = "/api/v1/lists"
CHANGES = "/api/v1/changes"


async def lists_of(user: User) -> list[dict[str, Any]]:
    response = await user.get(LISTS)
    assert response.status_code == 200, response.text
    return response.json()


async def in_order(user: User, list_id: str) -> list[str]:
    response = await user.get(TASKS, params={"list_id": list_id, "sort": "position", "limit": 500})
    assert response.status_code == 200, response.text
    return [task["title"] for task in response.json()]


async def make_list(user: User, name: str) -> dict[str, Any]:
    response = await user.post(LISTS, json={"name": name})
    assert response.status_code == 201, response.text
    return response.json()


async def test_the_first_create_makes_the_default_list_in_one_statement(client, statements):
    alice = await sign_up(client)
    assert (await alice.get(TASKS)).json() == []  # the user known to the app (auth reads once)
    statements.clear()
    task = await alice.create(title="first")
    assert statements.verbs() == ["INSERT"]
    [default] = await lists_of(alice)
    assert default["is_default"] is True and default["name"] == "My Tasks"
    assert task["list_id"] == default["id"] and task["position"] == "a0"
    second = await alice.create(title="second")
    assert second["list_id"] == default["id"] and second["position"] > task["position"]


async def test_a_user_without_lists_sees_the_default_one(alice: User, bob: User):
    [default] = await lists_of(alice)
    assert default["is_default"] and default["position"] == "a0"
    assert await lists_of(alice) == [default]  # made once
    got = await alice.get(f"{LISTS}/{default['id']}")
    assert got.status_code == 200 and got.json() == default
    assert (await bob.get(f"{LISTS}/{default['id']}")).status_code == 404


async def test_sixty_concurrent_first_creates_make_one_default_list(client):
    alice = await sign_up(client)
    responses = await asyncio.gather(
        *(alice.post(TASKS, json={"title": f"t{n}"}) for n in range(60))
    )
    assert [r.status_code for r in responses] == [201] * 60, [r.text for r in responses][:3]
    [default] = await lists_of(alice)
    assert {r.json()["list_id"] for r in responses} == {default["id"]}
    assert len(await in_order(alice, default["id"])) == 60


async def test_lists_are_created_in_order_renamed_and_paged(alice: User):
    groceries = await make_list(alice, "  Groceries ")
    work = await make_list(alice, "Work")
    assert groceries["name"] == "Groceries" and groceries["is_default"] is False
    names = [item["name"] for item in await lists_of(alice)]
    assert names == ["My Tasks", "Groceries", "Work"]
    renamed = await alice.patch(
        f"{LISTS}/{work['id']}",
        json={"name": "Office"},
        headers={"If-Match": f'"{work["id"]}.1"'},
    )
    assert renamed.status_code == 200 and renamed.json()["version"] == 2
    stale = await alice.patch(
        f"{LISTS}/{work['id']}", json={"name": "x"}, headers={"If-Match": f'"{work["id"]}.1"'}
    )
    assert stale.status_code == 412
    first = await alice.get(LISTS, params={"limit": 2})
    assert [item["name"] for item in first.json()] == ["My Tasks", "Groceries"]
    rest = await alice.get(first.links["next"]["url"])
    assert [item["name"] for item in rest.json()] == ["Office"] and "link" not in rest.headers
    for bad in ({"name": ""}, {"name": "x" * 201}, {"name": None}, {"other": 1}):
        assert (await alice.patch(f"{LISTS}/{work['id']}", json=bad)).status_code == 422
    assert (await alice.get(LISTS, params={"cursor": "garbage"})).status_code == 422


async def test_the_default_list_cannot_be_deleted(alice: User):
    task = await alice.create()
    response = await alice.delete(f"{LISTS}/{task['list_id']}")
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert (await alice.get(f"{TASKS}/{task['id']}")).status_code == 200


async def test_a_task_in_a_list_not_yours_is_a_422(alice: User, bob: User):
    theirs = await make_list(bob, "Bob's")
    for list_id in (theirs["id"], "00000000-0000-4000-8000-000000000000", "nope"):
        response = await alice.post(TASKS, json={"title": "x", "list_id": list_id})
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["loc"] == ["body", "list_id"]
    assert await in_order(bob, theirs["id"]) == []
    assert (await alice.get(TASKS, params={"list_id": theirs["id"]})).json() == []


async def test_listing_by_list_keeps_other_lists_out(alice: User):
    groceries = await make_list(alice, "Groceries")
    await alice.create(title="milk", list_id=groceries["id"])
    await alice.create(title="report")
    assert await in_order(alice, groceries["id"]) == ["milk"]
    everything = {task["title"] for task in (await alice.get(TASKS)).json()}
    assert everything == {"milk", "report"}
    refused = await alice.get(TASKS, params={"sort": "position"})
    assert refused.status_code == 422


async def test_deleting_a_list_deletes_its_tasks_with_a_tombstone_each(alice: User):
    groceries = await make_list(alice, "Groceries")
    tasks = [await alice.create(title=f"t{n}", list_id=groceries["id"]) for n in range(3)]
    kept = await alice.create(title="elsewhere")
    assert (await alice.delete(f"{LISTS}/{groceries['id']}")).status_code == 204
    assert (await alice.get(f"{LISTS}/{groceries['id']}")).status_code == 404
    for task in tasks:
        assert (await alice.get(f"{TASKS}/{task['id']}")).status_code == 404
    assert (await alice.get(f"{TASKS}/{kept['id']}")).status_code == 200
    changes = (await alice.get(CHANGES)).json()["changes"]
    deleted = {(c["type"], c["id"]) for c in changes if c["op"] == "delete"}
    assert deleted == {("tasks", task["id"]) for task in tasks} | {("lists", groceries["id"])}
    created = [c for c in changes if c["type"] == "lists" and c["op"] == "create"]
    # The default list, stored by the first create, is every user's from the start: no entry.
    assert [c["data"]["name"] for c in created] == ["Groceries"]


async def test_the_default_list_is_in_the_feed_once_changed(alice: User):
    task = await alice.create(title="first")  # stores the default list
    assert [c["type"] for c in (await alice.get(CHANGES)).json()["changes"]] == ["tasks"]
    renamed = await alice.patch(f"{LISTS}/{task['list_id']}", json={"name": "Inbox"})
    assert renamed.status_code == 200, renamed.text
    changes = (await alice.get(CHANGES)).json()["changes"]
    assert [(c["type"], c["op"]) for c in changes] == [("tasks", "create"), ("lists", "update")]
    assert changes[1]["data"]["name"] == "Inbox" and changes[1]["data"]["is_default"]


async def test_moves_place_a_task_among_its_list(alice: User, statements):
    a, b, c = [await alice.create(title=title) for title in "abc"]
    list_id = a["list_id"]
    statements.clear()
    moved = await alice.post(f"{TASKS}/{c['id']}/move", json={"after": a["id"]})
    assert statements.verbs() == ["UPDATE"]
    assert moved.status_code == 200 and moved.json()["version"] == 2
    assert await in_order(alice, list_id) == ["a", "c", "b"]
    await alice.post(f"{TASKS}/{a['id']}/move", json={"before": None})
    assert await in_order(alice, list_id) == ["c", "b", "a"]
    await alice.post(f"{TASKS}/{a['id']}/move", json={"after": None})
    assert await in_order(alice, list_id) == ["a", "c", "b"]
    await alice.post(f"{TASKS}/{b['id']}/move", json={"before": c["id"]})
    assert await in_order(alice, list_id) == ["a", "b", "c"]
    await alice.post(f"{TASKS}/{a['id']}/move", json={"after": b["id"], "before": c["id"]})
    assert await in_order(alice, list_id) == ["b", "a", "c"]
    await alice.post(f"{TASKS}/{b['id']}/move", json={})
    assert await in_order(alice, list_id) == ["a", "c", "b"]


async def test_a_move_to_another_list(alice: User, bob: User, statements):
    task = await alice.create(title="x")
    other = await alice.create(title="y")
    groceries = await make_list(alice, "Groceries")
    milk = await alice.create(title="milk", list_id=groceries["id"])
    statements.clear()
    moved = await alice.post(
        f"{TASKS}/{task['id']}/move", json={"list_id": groceries["id"], "before": milk["id"]}
    )
    assert statements.verbs() == ["UPDATE"]
    assert moved.status_code == 200 and moved.json()["list_id"] == groceries["id"]
    assert await in_order(alice, groceries["id"]) == ["x", "milk"]
    theirs = await make_list(bob, "Bob's")
    for body, field in (
        ({"list_id": theirs["id"]}, "list_id"),
        ({"after": other["id"]}, "after"),  # not in the task's list
        ({"before": task["id"]}, "before"),  # itself
        ({"after": milk["id"], "before": task["id"]}, "before"),  # the wrong way round
        ({"after": "nope"}, "after"),
    ):
        response = await alice.post(f"{TASKS}/{task['id']}/move", json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["errors"][0]["loc"] == ["body", field], (body, response.text)
    assert (
        await alice.post(f"{TASKS}/{task['id']}/move", json={"after": None, "before": None})
    ).status_code == 422
    assert await in_order(bob, theirs["id"]) == []


async def test_lists_move(alice: User):
    one, two = await make_list(alice, "one"), await make_list(alice, "two")
    moved = await alice.post(f"{LISTS}/{two['id']}/move", json={"after": None})
    assert moved.status_code == 200
    assert [item["name"] for item in await lists_of(alice)] == ["two", "My Tasks", "one"]
    await alice.post(f"{LISTS}/{two['id']}/move", json={"after": one["id"]})
    assert [item["name"] for item in await lists_of(alice)] == ["My Tasks", "one", "two"]
    refused = await alice.post(f"{LISTS}/{two['id']}/move", json={"before": two["id"]})
    assert refused.status_code == 422


async def test_a_thousand_moves_to_one_spot_keep_keys_short(alice: User, db):
    first, last = await alice.create(title="first"), await alice.create(title="last")
    movers = [await alice.create(title=f"m{n}") for n in range(4)]
    for n in range(1000):  # each time right after `first`, before the one moved just before
        mover = movers[n % len(movers)]
        response = await alice.post(f"{TASKS}/{mover['id']}/move", json={"after": first["id"]})
        assert response.status_code == 200, response.text
    order = await in_order(alice, first["list_id"])
    assert order[0] == "first" and order[-1] == "last" and len(order) == 6
    longest = await db.fetchval(
        "SELECT max(length(position)) FROM tasks WHERE list_id = $1", first["list_id"]
    )
    assert longest <= 24, longest
    for n in range(1000):  # and right before `last`, after the one moved just before
        mover = movers[n % len(movers)]
        await alice.post(f"{TASKS}/{mover['id']}/move", json={"before": last["id"]})
    assert (await in_order(alice, first["list_id"]))[-1] == "last"
    longest = await db.fetchval(
        "SELECT max(length(position)) FROM tasks WHERE list_id = $1", first["list_id"]
    )
    assert longest <= 24, longest


async def test_position_pages_follow_the_manual_order(alice: User):
    tasks = [await alice.create(title=f"t{n:02}") for n in range(7)]
    await alice.post(f"{TASKS}/{tasks[6]['id']}/move", json={"after": None})
    seen: list[str] = []
    url: str | None = TASKS
    params: dict[str, Any] | None = {"list_id": tasks[0]["list_id"], "sort": "position", "limit": 3}
    while url is not None:
        page = await alice.get(url, params=params)
        assert page.status_code == 200, page.text
        seen += [task["title"] for task in page.json()]
        url, params = page.links.get("next", {}).get("url"), None
    assert seen == ["t06"] + [f"t{n:02}" for n in range(6)]


async def test_a_task_list_page_in_position_order_is_one_statement(alice: User, statements):
    task = await alice.create()
    statements.clear()
    await alice.get(TASKS, params={"list_id": task["list_id"], "sort": "position"})
    assert statements.verbs() == ["SELECT"]


async def test_a_batch_creates_in_order_and_refuses_lists_not_yours(
    alice: User, bob: User, client: httpx.AsyncClient
):
    theirs = await make_list(bob, "Bob's")
    groceries = await make_list(alice, "Groceries")
    create = [
        {"op": "create", "task": {"title": f"b{n}", "list_id": groceries["id"]}} for n in range(3)
    ]
    response = await alice.post(f"{TASKS}/batch", json={"operations": create})
    assert [r["status"] for r in response.json()["results"]] == [201] * 3
    assert await in_order(alice, groceries["id"]) == ["b0", "b1", "b2"]
    foreign = {"op": "create", "task": {"title": "x", "list_id": theirs["id"]}}
    mixed = {"atomic": False, "operations": [foreign, {"op": "create", "task": {"title": "d"}}]}
    results = (await alice.post(f"{TASKS}/batch", json=mixed)).json()["results"]
    assert [r["status"] for r in results] == [422, 201]
    assert await in_order(bob, theirs["id"]) == []
