"""Task: T-319
Spec: specs/api/rest-endpoints.md §Tasks (`POST /api/v1/tasks/batch`), §Lists, §Order

A batch's `move` and list operations: each answered as its single route would (the default
list's 409, 404, 412, a move's 422 naming its field), atomic or not, idempotent, one statement
per kind of list operation whatever their number, one per move.
"""

import uuid

from app.core import etag
from tests.plugins.tasks.conftest import TASKS, User
from tests.plugins.tasks.test_batch import BATCH, statuses
from tests.plugins.tasks.test_lists import in_order, lists_of, make_list


async def test_list_operations_answer_as_their_routes(alice: User, bob: User):
    default = (await lists_of(alice))[0]
    work = await make_list(alice, "Work")
    home = await make_list(alice, "Home")
    chore = await alice.create(title="chore", list_id=home["id"])
    theirs = await make_list(bob, "Bob's")
    response = await alice.post(
        BATCH,
        json={
            "atomic": False,
            "operations": [
                {"op": "list_create", "name": " Groceries "},
                {"op": "list_create", "name": "Errands"},
                {"op": "list_update", "id": work["id"], "name": "Office"},
                {"op": "list_delete", "id": home["id"], "if_match": etag(home["id"], 1)},
                {"op": "list_delete", "id": default["id"]},
                {"op": "list_update", "id": theirs["id"], "name": "Mine now"},
                {"op": "list_delete", "id": "not-a-uuid"},
                {"op": "list_update", "id": str(uuid.uuid4()), "name": "x"},
            ],
        },
    )
    assert statuses(response) == [201, 201, 200, 204, 409, 404, 404, 404]
    results = [result["body"] for result in response.json()["results"]]
    assert results[0]["name"] == "Groceries" and results[2]["name"] == "Office"
    assert results[2]["version"] == 2
    assert "default list" in results[4]["detail"]
    assert [(item["name"], item["is_default"]) for item in await lists_of(alice)] == [
        ("My Tasks", True),
        ("Office", False),
        ("Groceries", False),
        ("Errands", False),
    ]
    assert (await alice.get(f"{TASKS}/{chore['id']}")).status_code == 404
    assert [item["name"] for item in await lists_of(bob)][1:] == ["Bob's"]

    office = await alice.get(f"/api/v1/lists/{work['id']}")
    again = await alice.post(
        BATCH,
        json={
            "atomic": False,
            "operations": [
                {"op": "list_update", "id": work["id"], "name": "Office"},  # unchanged
                {"op": "list_delete", "id": results[0]["id"], "if_match": '"stale.9"'},
                {"op": "list_update", "id": results[1]["id"], "name": "x", "if_match": '"s.1"'},
            ],
        },
    )
    assert statuses(again) == [200, 412, 412]
    assert again.json()["results"][0]["body"] == office.json()


async def test_an_atomic_batch_with_a_failing_list_operation_changes_nothing(alice: User):
    default = (await lists_of(alice))[0]
    work = await make_list(alice, "Work")
    task = await alice.create(title="t")
    response = await alice.post(
        BATCH,
        json={
            "operations": [
                {"op": "list_create", "name": "Never"},
                {"op": "list_update", "id": work["id"], "name": "Never"},
                {"op": "move", "id": task["id"], "list_id": work["id"]},
                {"op": "list_delete", "id": default["id"]},
            ]
        },
    )
    assert statuses(response) == [424, 424, 424, 409]
    assert [item["name"] for item in await lists_of(alice)] == ["My Tasks", "Work"]
    assert (await alice.get(f"{TASKS}/{task['id']}")).json() == task


async def test_moves_apply_in_order_and_fail_as_the_move_route(alice: User, bob: User):
    a, b, c, d = [await alice.create(title=title) for title in "abcd"]
    list_id = a["list_id"]
    groceries = await make_list(alice, "Groceries")
    theirs = await make_list(bob, "Bob's")
    response = await alice.post(
        BATCH,
        json={
            "atomic": False,
            "operations": [
                {"op": "move", "id": a["id"]},  # to the end
                {"op": "move", "id": b["id"]},  # then after it: each move sees the one before
                {"op": "move", "id": d["id"], "after": None},
                {"op": "move", "id": c["id"], "list_id": groceries["id"]},
                {"op": "move", "id": str(uuid.uuid4())},
                {"op": "create", "task": {"title": "e"}},
            ],
        },
    )
    assert statuses(response) == [200, 200, 200, 200, 404, 201]
    moved = response.json()["results"][3]["body"]
    assert moved["list_id"] == groceries["id"] and moved["version"] == 2
    assert await in_order(alice, list_id) == ["d", "e", "a", "b"]
    assert await in_order(alice, groceries["id"]) == ["c"]

    for body, field in (
        ({"list_id": theirs["id"]}, "list_id"),
        ({"after": c["id"]}, "after"),  # in another list
        ({"before": a["id"]}, "before"),  # itself
        ({"after": b["id"], "before": a["id"]}, "before"),  # the wrong way round
    ):
        failed = await alice.post(
            BATCH, json={"atomic": False, "operations": [{"op": "move", "id": a["id"], **body}]}
        )
        assert statuses(failed) == [422], body
        [error] = failed.json()["results"][0]["body"]["errors"]
        assert error["loc"] == [field], (body, error)
    assert await in_order(alice, list_id) == ["d", "e", "a", "b"]
    assert await in_order(bob, theirs["id"]) == []
    bobs = await bob.post(BATCH, json={"operations": [{"op": "move", "id": a["id"]}]})
    assert statuses(bobs) == [404]
    malformed = {"op": "move", "id": a["id"], "after": None, "before": None}
    assert (await alice.post(BATCH, json={"operations": [malformed]})).status_code == 422


async def test_a_move_takes_a_parent_as_the_move_route(alice: User, bob: User):
    parent, child, loose, other = [
        await alice.create(title=title) for title in ("parent", "c", "l", "o")
    ]
    bobs = await bob.create(title="Bob's")
    response = await alice.post(
        BATCH,
        json={
            "atomic": False,
            "operations": [
                {"op": "move", "id": child["id"], "parent_id": parent["id"]},
                {"op": "move", "id": loose["id"], "parent_id": parent["id"], "after": None},
                {"op": "move", "id": parent["id"], "parent_id": child["id"]},  # a cycle
                {"op": "move", "id": other["id"], "parent_id": bobs["id"]},  # not hers
            ],
        },
    )
    assert statuses(response) == [200, 200, 422, 422]
    results = response.json()["results"]
    assert results[0]["body"]["parent_id"] == parent["id"]
    for refused in results[2:]:
        [error] = refused["body"]["errors"]
        assert error["loc"] == ["parent_id"]
    children = await alice.get(TASKS, params={"parent_id": parent["id"], "sort": "position"})
    assert [task["title"] for task in children.json()] == ["l", "c"]
    assert (await alice.get(f"{TASKS}/{parent['id']}")).json()["parent_id"] is None


async def test_idempotency_key_replays_list_operations(alice: User):
    body = {"operations": [{"op": "list_create", "name": "Once"}]}
    first = await alice.post(BATCH, json=body, headers={"Idempotency-Key": "lists-1"})
    again = await alice.post(BATCH, json=body, headers={"Idempotency-Key": "lists-1"})
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert [item["name"] for item in await lists_of(alice)] == ["My Tasks", "Once"]


async def test_one_statement_per_kind_of_list_operation_and_per_move(alice: User, statements):
    lists = [await make_list(alice, f"l{n}") for n in range(4)]
    tasks = [await alice.create(title=f"t{n}") for n in range(3)]
    statements.clear()
    operations = [
        *({"op": "list_create", "name": f"new {n}"} for n in range(90)),
        *({"op": "list_update", "id": item["id"], "name": "renamed"} for item in lists[:2]),
        *({"op": "list_delete", "id": item["id"]} for item in lists[2:]),
    ]
    assert statuses(await alice.post(BATCH, json={"operations": operations})) == (
        [201] * 90 + [200] * 2 + [204] * 2
    )
    assert statements.verbs() == ["BEGIN", "WITH", "UPDATE", "DELETE", "COMMIT"]
    statements.clear()
    moves = [{"op": "move", "id": task["id"], "after": None} for task in tasks]
    assert statuses(await alice.post(BATCH, json={"operations": moves})) == [200] * 3
    assert statements.verbs() == ["BEGIN", "UPDATE", "UPDATE", "UPDATE", "COMMIT"]
    assert await in_order(alice, tasks[0]["list_id"]) == ["t2", "t1", "t0"]
