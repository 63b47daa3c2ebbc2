"""Task: T-042
Spec: specs/api/rest-endpoints.md §Tasks

Each endpoint's success and failure cases.
"""

import uuid

import pytest

from tests.plugins.tasks.conftest import TASKS, User

FIELDS = {
    "id",
    "user_id",
    "list_id",
    "position",
    "title",
    "description",
    "completed",
    "completed_at",
    "priority",
    "due_at",
    "tags",
    "created_at",
    "updated_at",
    "version",
    "parent_id",
    "created_by",
    "updated_by",
    "completed_by",
    "assignee_id",
}


async def test_create_returns_every_field_location_and_etag(alice: User):
    response = await alice.post(
        TASKS,
        json={
            "title": "  Buy milk  ",
            "description": "two litres",
            "priority": "high",
            "due_at": "2030-01-02T03:04:05+02:00",
            "tags": ["home", "shop", "home"],
        },
    )
    assert response.status_code == 201, response.text
    task = response.json()
    assert set(task) == FIELDS
    assert task["title"] == "Buy milk"
    assert task["user_id"] == alice.id
    assert task["priority"] == "high"
    assert task["due_at"] == "2030-01-02T01:04:05Z"  # stored and answered in UTC
    assert task["tags"] == ["home", "shop"]
    assert task["completed"] is False and task["completed_at"] is None
    assert task["version"] == 1
    assert uuid.UUID(task["id"]).version == 4
    assert response.headers["location"] == f"{TASKS}/{task['id']}"
    assert response.headers["etag"]

    fetched = await alice.get(response.headers["location"])
    assert fetched.json() == task
    assert fetched.headers["etag"] == response.headers["etag"]


async def test_create_defaults(alice: User):
    task = await alice.create(title="x")
    assert task["priority"] == "none"
    assert task["tags"] == []
    assert task["description"] is None and task["due_at"] is None


async def test_create_completed_sets_completed_at(alice: User):
    task = await alice.create(completed=True)
    assert task["completed"] is True and task["completed_at"] is not None


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"title": ""},
        {"title": "   "},
        {"title": "x" * 201},
        {"title": None},
        {"title": "x", "description": "d" * 1001},
        {"title": "x", "priority": "urgent"},
        {"title": "x", "due_at": "2030-01-01T10:00:00"},
        {"title": "x", "due_at": "tomorrow"},
        {"title": "x", "tags": [f"t{i}" for i in range(21)]},
        {"title": "x", "tags": [""]},
        {"title": "x", "tags": ["t" * 51]},
        {"title": "x", "tags": "home"},
        {"title": "x", "id": str(uuid.uuid4())},
        {"title": "x", "user_id": "someone"},
        {"title": "x", "version": 7},
        {"title": "x", "created_at": "2030-01-01T10:00:00Z"},
        {"title": "x", "completed_at": "2030-01-01T10:00:00Z"},
        {"title": "x", "colour": "red"},
        {"title": "a\u0000b"},
        {"title": "x", "description": "\u0000"},
        {"title": "x", "tags": ["a\u0000"]},
    ],
)
async def test_create_rejects_invalid_bodies(alice: User, body: dict):
    response = await alice.post(TASKS, json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert (await alice.get(TASKS)).json() == []


async def test_duplicate_tags_are_dropped_before_they_are_counted(alice: User):
    twenty = [f"t{i}" for i in range(20)]
    task = await alice.create(tags=[*twenty, "t0", " t1 "])
    assert task["tags"] == twenty
    changed = await alice.patch(f"{TASKS}/{task['id']}", json={"tags": ["a", *twenty]})
    assert changed.status_code == 422
    assert changed.json()["errors"][0]["loc"] == ["body", "tags"]


async def test_title_of_200_characters_after_trimming_is_accepted(alice: User):
    task = await alice.create(title=" " + "x" * 200 + " ")
    assert task["title"] == "x" * 200


async def test_requests_need_a_token(client, alice: User):
    response = await client.get(TASKS)
    assert response.status_code == 401
    assert (await client.post(TASKS, json={"title": "x"})).status_code == 401


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
async def test_update_changes_only_the_fields_sent(alice: User, method: str):
    task = await alice.create(title="old", description="keep me", tags=["a"], priority="low")
    old_tag = (await alice.get(f"{TASKS}/{task['id']}")).headers["etag"]
    response = await alice.request(method, f"{TASKS}/{task['id']}", json={"title": "new"})
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["title"] == "new"
    assert updated["description"] == "keep me"
    assert updated["tags"] == ["a"] and updated["priority"] == "low"
    assert updated["version"] == task["version"] + 1
    assert updated["updated_at"] > task["updated_at"]
    assert updated["created_at"] == task["created_at"]
    assert response.headers["etag"] != old_tag
    assert (await alice.get(f"{TASKS}/{task['id']}")).json() == updated


async def test_update_can_clear_nullable_fields(alice: User):
    task = await alice.create(description="d", due_at="2030-01-01T00:00:00Z")
    cleared = {"description": None, "due_at": None}
    response = await alice.patch(f"{TASKS}/{task['id']}", json=cleared)
    assert response.status_code == 200
    assert response.json()["description"] is None and response.json()["due_at"] is None


async def test_update_setting_completed_sets_and_clears_completed_at(alice: User):
    task = await alice.create()
    done = (await alice.patch(f"{TASKS}/{task['id']}", json={"completed": True})).json()
    assert done["completed"] is True and done["completed_at"] is not None
    undone = (await alice.patch(f"{TASKS}/{task['id']}", json={"completed": False})).json()
    assert undone["completed"] is False and undone["completed_at"] is None
    assert undone["version"] == 3


async def test_update_with_the_same_values_writes_nothing(alice: User):
    task = await alice.create(title="same")
    response = await alice.patch(f"{TASKS}/{task['id']}", json={"title": "same"})
    assert response.status_code == 200
    assert response.json() == task


@pytest.mark.parametrize(
    "body",
    [
        {"title": None},
        {"title": ""},
        {"completed": None},
        {"priority": None},
        {"tags": None},
        {"due_at": "2030-01-01T00:00:00"},
        {"version": 9},
        {"id": "x"},
        {"user_id": "x"},
        {"updated_at": "2030-01-01T00:00:00Z"},
        {"unknown": 1},
    ],
)
async def test_update_rejects_invalid_bodies(alice: User, body: dict):
    task = await alice.create()
    response = await alice.patch(f"{TASKS}/{task['id']}", json=body)
    assert response.status_code == 422, response.text
    assert (await alice.get(f"{TASKS}/{task['id']}")).json() == task


async def test_complete_is_idempotent(alice: User):
    task = await alice.create()
    first = await alice.patch(f"{TASKS}/{task['id']}/complete")
    assert first.status_code == 200
    assert first.json()["completed"] is True and first.json()["completed_at"] is not None
    assert first.json()["version"] == 2
    second = await alice.patch(f"{TASKS}/{task['id']}/complete")
    assert second.status_code == 200
    assert second.json() == first.json()
    assert second.headers["etag"] == first.headers["etag"]


async def test_delete_answers_204_and_the_task_is_gone(alice: User):
    task = await alice.create()
    response = await alice.delete(f"{TASKS}/{task['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert (await alice.get(f"{TASKS}/{task['id']}")).status_code == 404
    assert (await alice.delete(f"{TASKS}/{task['id']}")).status_code == 404


@pytest.mark.parametrize("task_id", [str(uuid.uuid4()), "not-a-uuid", "1", "%20"])
@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("PUT", "", {"title": "x"}),
        ("PATCH", "", {"title": "x"}),
        ("PATCH", "/complete", None),
        ("DELETE", "", None),
    ],
)
async def test_missing_or_malformed_ids_are_404(
    alice: User, task_id: str, method: str, suffix: str, body: dict | None
):
    response = await alice.request(method, f"{TASKS}/{task_id}{suffix}", json=body)
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "Task not found"


async def test_deleting_the_user_deletes_their_tasks(alice: User, db):
    await alice.create()
    await db.execute("DELETE FROM users WHERE id = $1", alice.id)
    assert await db.fetchval("SELECT count(*) FROM tasks") == 0
