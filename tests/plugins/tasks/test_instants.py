"""Task: T-201, T-204
Spec: specs/api/rest-endpoints.md §Limits, §Tasks

Every datetime a task request carries lies in the range the API can represent: the range's
edges are accepted in any zone and answered in UTC with `Z`; one microsecond beyond, or the
calendar's own edges (once stored as ±infinity), are a 422 naming the field that changes
nothing. The feed of a user whose tasks sit at the edges answers 200 (it answered 500).
"""

from typing import Any

import pytest

from tests.plugins.tasks.conftest import TASKS, User
from tests.plugins.tasks.instants import BOUND_IDS, BOUNDS, CALENDAR_EDGES, naked_datetimes, utc

CHANGES = "/api/v1/changes"
BATCH = f"{TASKS}/batch"


def locations(response) -> list[list[Any]]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [error["loc"] for error in response.json()["errors"]]


async def tasks_of(user: User) -> list[dict[str, Any]]:
    response = await user.get(TASKS)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(("edge", "beyond"), BOUNDS, ids=BOUND_IDS)
async def test_a_due_date_at_the_edge_is_taken_and_one_microsecond_beyond_is_422(
    alice: User, edge: str, beyond: str
):
    assert locations(await alice.post(TASKS, json={"title": "x", "due_at": beyond})) == [
        ["body", "due_at"]
    ]
    created = await alice.create(due_at=edge)
    assert created["due_at"] == utc(edge)
    assert (await alice.get(f"{TASKS}/{created['id']}")).json() == created

    task = await alice.create()
    for method in ("PUT", "PATCH"):
        refused = await alice.request(method, f"{TASKS}/{task['id']}", json={"due_at": beyond})
        assert locations(refused) == [["body", "due_at"]]
    assert (await alice.get(f"{TASKS}/{task['id']}")).json() == task
    for method in ("PUT", "PATCH"):
        updated = await alice.request(method, f"{TASKS}/{task['id']}", json={"due_at": edge})
        assert updated.status_code == 200, updated.text
        assert updated.json()["due_at"] == utc(edge)
    assert len(await tasks_of(alice)) == 2


@pytest.mark.parametrize("due_at", CALENDAR_EDGES[:2])  # the third: test_bad_input.py
async def test_the_calendars_edges_are_422(alice: User, due_at: str):
    assert locations(await alice.post(TASKS, json={"title": "x", "due_at": due_at})) == [
        ["body", "due_at"]
    ]
    task = await alice.create()
    updated = await alice.patch(f"{TASKS}/{task['id']}", json={"due_at": due_at})
    assert locations(updated) == [["body", "due_at"]]
    assert await tasks_of(alice) == [task]


@pytest.mark.parametrize(("edge", "beyond"), BOUNDS, ids=BOUND_IDS)
async def test_a_batch_takes_the_edge_and_refuses_beyond_it_whole(
    alice: User, edge: str, beyond: str
):
    task = await alice.create()
    for operation, field in (
        ({"op": "create", "task": {"title": "x", "due_at": beyond}}, "task"),
        ({"op": "update", "id": task["id"], "changes": {"due_at": beyond}}, "changes"),
    ):
        body = {
            "atomic": False,
            "operations": [{"op": "create", "task": {"title": "y"}}, operation],
        }
        loc = locations(await alice.post(BATCH, json=body))
        assert loc == [["body", "operations", 1, operation["op"], field, "due_at"]]
    assert await tasks_of(alice) == [task]

    operations = [
        {"op": "create", "task": {"title": "x", "due_at": edge}},
        {"op": "update", "id": task["id"], "changes": {"due_at": edge}},
    ]
    response = await alice.post(BATCH, json={"operations": operations})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [result["status"] for result in results] == [201, 200]
    assert [result["body"]["due_at"] for result in results] == [utc(edge)] * 2
    assert naked_datetimes(results) == []


@pytest.mark.parametrize("field", ["due_before", "due_after", "updated_since"])
@pytest.mark.parametrize(("edge", "beyond"), BOUNDS, ids=BOUND_IDS)
async def test_a_list_bound_at_the_edge_is_taken_and_beyond_it_is_422(
    alice: User, field: str, edge: str, beyond: str
):
    await alice.create(due_at=edge)
    response = await alice.get(TASKS, params={field: edge})
    assert response.status_code == 200, response.text
    assert locations(await alice.get(TASKS, params={field: beyond})) == [["query", field]]


async def test_tasks_at_the_edges_are_answered_with_offsets_everywhere_and_the_feed_reads(
    alice: User,
):
    # The calendar's edges once became ±infinity here, after which this user's feed answered
    # 500: the feed is read before the refusals are checked, so that is what fails if it recurs.
    attempts = [
        (await alice.post(TASKS, json={"title": "x", "due_at": due_at})).status_code
        for due_at in CALENDAR_EDGES
    ]
    for edge, _ in BOUNDS:
        await alice.create(due_at=edge)
    feed = await alice.get(CHANGES)
    assert feed.status_code == 200, feed.text
    assert attempts == [422] * len(CALENDAR_EDGES)

    changes = feed.json()["changes"]
    assert [change["data"]["due_at"] for change in changes] == [utc(e) for e, _ in BOUNDS]
    assert naked_datetimes(changes) == []
    listed = await tasks_of(alice)
    assert naked_datetimes(listed) == [] and len(listed) == len(BOUNDS)
    # A cursor holding an edge continues the list.
    seen, params = [], {"sort": "due_at", "limit": 1}
    while True:
        page = await alice.get(TASKS, params=params)
        assert page.status_code == 200, page.text
        seen += [task["due_at"] for task in page.json()]
        if "link" not in page.headers:
            break
        params = {**params, "cursor": page.headers["link"].split("cursor=")[1].split(">")[0]}
    assert seen == sorted(utc(e) for e, _ in BOUNDS)
