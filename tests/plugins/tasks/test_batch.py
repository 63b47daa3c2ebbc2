"""Task: T-143, T-258
Spec: specs/api/rest-endpoints.md §Tasks (`POST /api/v1/tasks/batch`)
"""

import uuid

from app.core import etag
from tests.plugins.changes.conftest import feed
from tests.plugins.changes.test_events import Refusing
from tests.plugins.tasks.conftest import TASKS, sign_up

BATCH = f"{TASKS}/batch"


def statuses(response) -> list[int]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    return [result["status"] for result in response.json()["results"]]


async def test_a_mixed_batch_applies_every_operation(alice):
    edit, finish, drop = [await alice.create(title=t) for t in ("edit", "finish", "drop")]
    response = await alice.post(
        BATCH,
        json={
            "operations": [
                {"op": "create", "task": {"title": "new one", "tags": ["x"]}},
                {
                    "op": "update",
                    "id": edit["id"],
                    "changes": {"title": "edited"},
                    "if_match": etag(edit["id"], edit["version"]),
                },
                {"op": "complete", "id": finish["id"]},
                {"op": "delete", "id": drop["id"]},
            ]
        },
    )
    assert statuses(response) == [201, 200, 200, 204]
    created, edited, finished, dropped = response.json()["results"]
    assert created["body"] == (await alice.get(f"{TASKS}/{created['body']['id']}")).json()
    assert edited["body"]["title"] == "edited" and edited["body"]["version"] == 2
    assert finished["body"]["completed"] and finished["body"]["completed_at"]
    assert dropped["body"] is None
    assert (await alice.get(f"{TASKS}/{drop['id']}")).status_code == 404
    assert len((await alice.get(TASKS)).json()) == 3


async def test_an_atomic_batch_with_a_failing_operation_changes_nothing(alice):
    task = await alice.create(title="keep")
    _, cursor = await feed(alice)
    response = await alice.post(
        BATCH,
        json={
            "operations": [
                {"op": "create", "task": {"title": "never"}},
                {
                    "op": "update",
                    "id": task["id"],
                    "changes": {"title": "x"},
                    "if_match": '"stale.9"',
                },
                {"op": "complete", "id": str(uuid.uuid4())},  # no such task
            ]
        },
    )
    results = response.json()["results"]
    assert statuses(response) == [424, 412, 404]
    assert "operation 1 failed" in results[0]["body"]["detail"]
    assert (await alice.get(TASKS)).json() == [task]
    assert (await feed(alice, cursor))[0] == []


async def test_a_non_atomic_batch_applies_the_rest(alice):
    task = await alice.create(title="mine")
    response = await alice.post(
        BATCH,
        json={
            "atomic": False,
            "operations": [
                {
                    "op": "update",
                    "id": task["id"],
                    "changes": {"title": "x"},
                    "if_match": '"stale.9"',
                },
                {"op": "create", "task": {"title": "applied"}},
                {"op": "delete", "id": "not-a-uuid"},
                {"op": "delete", "id": str(uuid.uuid4())},
            ],
        },
    )
    assert statuses(response) == [412, 201, 404, 404]
    titles = sorted(t["title"] for t in (await alice.get(TASKS)).json())
    assert titles == ["applied", "mine"]


async def test_unchanged_operations_answer_the_task_as_it_is(alice):
    done = await alice.create(title="done", completed=True)
    same = await alice.create(title="same")
    response = await alice.post(
        BATCH,
        json={
            "operations": [
                {"op": "complete", "id": done["id"]},
                {"op": "update", "id": same["id"], "changes": {"title": "same"}},
            ]
        },
    )
    assert statuses(response) == [200, 200]
    assert [r["body"] for r in response.json()["results"]] == [done, same]


async def test_a_task_may_appear_once_per_batch(alice):
    task = await alice.create(title="once")
    operations = [{"op": "complete", "id": task["id"]}, {"op": "delete", "id": task["id"]}]
    response = await alice.post(BATCH, json={"atomic": False, "operations": operations})
    assert statuses(response) == [200, 422]


async def test_another_users_tasks_are_not_found(alice, bob):
    theirs = await bob.create(title="bob's")
    for op in (
        {"op": "update", "id": theirs["id"], "changes": {"title": "mine now"}},
        {"op": "complete", "id": theirs["id"]},
        {"op": "delete", "id": theirs["id"]},
    ):
        assert statuses(await alice.post(BATCH, json={"operations": [op]})) == [404]
    assert (await bob.get(f"{TASKS}/{theirs['id']}")).json() == theirs


async def test_the_number_of_operations_is_bounded(alice):
    create = {"op": "create", "task": {"title": "t"}}
    assert (await alice.post(BATCH, json={"operations": []})).status_code == 422
    assert (await alice.post(BATCH, json={"operations": [create] * 101})).status_code == 422
    assert statuses(await alice.post(BATCH, json={"operations": [create] * 100})) == [201] * 100
    assert len((await alice.get(TASKS, params={"limit": 500})).json()) == 100


async def test_idempotency_key_replays_the_first_response(alice):
    body = {"operations": [{"op": "create", "task": {"title": "once"}}]}
    first = await alice.post(BATCH, json=body, headers={"Idempotency-Key": "k1"})
    again = await alice.post(BATCH, json=body, headers={"Idempotency-Key": "k1"})
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert len((await alice.get(TASKS)).json()) == 1
    other = {"operations": [{"op": "create", "task": {"title": "twice"}}]}
    assert (
        await alice.post(BATCH, json=other, headers={"Idempotency-Key": "k1"})
    ).status_code == 422


async def test_a_batch_is_one_transaction_in_the_change_log(alice, db):
    create = {"op": "create", "task": {"title": "t"}}
    assert statuses(await alice.post(BATCH, json={"operations": [create] * 3})) == [201] * 3
    logged = await db.fetch("SELECT xid, op FROM changes WHERE user_id = $1", alice.id)
    assert [row["op"] for row in logged] == ["create"] * 3
    assert len({row["xid"] for row in logged}) == 1


async def test_a_subscriber_refusing_one_operation(make_client):
    user = await sign_up(await make_client(extra={"refusing": Refusing()}))
    operations = [
        {"op": "create", "task": {"title": "fine"}},
        {"op": "create", "task": {"title": "forbidden"}},
    ]
    atomic = await user.post(BATCH, json={"operations": operations})
    assert statuses(atomic) == [424, 409]
    assert (await user.get(TASKS)).json() == []
    alone = await user.post(BATCH, json={"atomic": False, "operations": operations})
    assert statuses(alone) == [201, 409]
    assert [t["title"] for t in (await user.get(TASKS)).json()] == ["fine"]


async def test_a_malformed_operation_is_a_422_for_the_batch_and_changes_nothing(alice):
    for bad, loc in (
        (
            {"op": "create", "task": {"title": ""}},
            ["body", "operations", 1, "create", "task", "title"],
        ),
        ({"op": "frobnicate", "id": str(uuid.uuid4())}, ["body", "operations", 1]),
    ):
        body = {"atomic": False, "operations": [{"op": "create", "task": {"title": "t"}}, bad]}
        response = await alice.post(BATCH, json=body)
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["loc"] == loc
    assert (await alice.get(TASKS)).json() == []


async def test_a_malformed_if_match_is_a_422_for_the_batch_and_changes_nothing(alice):
    task = await alice.create(title="kept")
    bare = etag(task["id"], task["version"]).strip('"')  # the current tag, unquoted
    for op, extra in (("update", {"changes": {"title": "lost"}}), ("delete", {})):
        body = {
            "atomic": False,
            "operations": [
                {"op": "create", "task": {"title": "t"}},
                {"op": op, "id": task["id"], "if_match": bare, **extra},
            ],
        }
        response = await alice.post(BATCH, json=body)
        assert response.status_code == 422, response.text
        [error] = response.json()["errors"]
        assert error["loc"] == ["body", "operations", 1, op, "if_match"]
        assert "quoted entity tags" in error["msg"]
    assert (await alice.get(TASKS)).json() == [task]
