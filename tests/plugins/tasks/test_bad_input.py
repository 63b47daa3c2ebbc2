"""Task: T-107
Spec: specs/api/rest-endpoints.md §Tasks

Values that pass a type check yet cannot reach PostgreSQL are 422s naming the field, never
500s: datetimes UTC cannot hold, and cursors re-encoded by hand.
"""

import base64
import json
from typing import Any

import pytest

from app.plugins.tasks.filters import TaskQuery
from app.plugins.tasks.pagination import fingerprint
from tests.plugins.tasks.conftest import TASKS, User

# Valid ISO 8601 with an offset, but before year 1 or after 9999 once converted to UTC.
OVERFLOWING = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]


def locations(response) -> list[list[Any]]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [error["loc"] for error in response.json()["errors"]]


@pytest.mark.parametrize("due_at", OVERFLOWING)
async def test_a_due_date_utc_cannot_hold_is_422(alice: User, due_at: str):
    created = await alice.post(TASKS, json={"title": "x", "due_at": due_at})
    assert locations(created) == [["body", "due_at"]]
    task = await alice.create()
    for method in ("PUT", "PATCH"):
        updated = await alice.request(method, f"{TASKS}/{task['id']}", json={"due_at": due_at})
        assert locations(updated) == [["body", "due_at"]]
    assert (await alice.get(f"{TASKS}/{task['id']}")).json() == task


@pytest.mark.parametrize("field", ["due_before", "due_after"])
@pytest.mark.parametrize("value", [*OVERFLOWING, "2030-01-01T00:00:00"])
async def test_a_list_bound_utc_cannot_hold_or_without_offset_is_422(
    alice: User, field: str, value: str
):
    assert locations(await alice.get(TASKS, params={field: value})) == [["query", field]]


def cursor(sort: str, value: Any, task_id: Any) -> tuple[str, str]:
    """`sort` and a cursor for it re-encoded by hand, with the right fingerprint."""
    payload = {"v": value, "id": task_id, "f": fingerprint(TaskQuery(sort=sort))}
    return sort, base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def raw(content: bytes) -> tuple[str, str]:
    return "-created_at", base64.urlsafe_b64encode(content).decode()


TASK_ID = "0b7a4a43-5d0e-4a4e-9e0f-3f2a7d7c9b11"
TAMPERED = {
    "NUL in the id": cursor("title", "a", "0b7a4a43\x00"),
    "id not a UUID": cursor("title", "a", "not-a-uuid"),
    "id a number": cursor("title", "a", 7),
    "NUL in the title": cursor("title", "a\x00b", TASK_ID),
    "title a list": cursor("title", ["a"], TASK_ID),
    "date UTC cannot hold": cursor("created_at", OVERFLOWING[0], TASK_ID),
    "due date UTC cannot hold": cursor("-due_at", OVERFLOWING[1], TASK_ID),
    "date without offset": cursor("updated_at", "2030-01-01T00:00:00", TASK_ID),
    "date with a NUL": cursor("created_at", "2030-01-01\x00", TASK_ID),
    "unknown priority": cursor("priority", "urgent", TASK_ID),
    "nested deeper than the parser goes": raw(b"[" * 1400),
    "not UTF-8": raw(b"\xff\xfe"),
}


@pytest.mark.parametrize("name", TAMPERED)
async def test_a_tampered_cursor_is_422(alice: User, name: str):
    await alice.create()
    sort, encoded = TAMPERED[name]
    response = await alice.get(TASKS, params={"sort": sort, "cursor": encoded})
    assert locations(response) == [["query", "cursor"]]
    assert response.json()["errors"][0]["msg"] == "Invalid cursor: malformed"


async def test_a_cursor_naming_a_task_continues_after_it(alice: User):
    # The checks above refuse nothing a real cursor holds.
    first, second = await alice.create(title="a"), await alice.create(title="b")
    sort, encoded = cursor("title", first["title"], first["id"])
    response = await alice.get(TASKS, params={"sort": sort, "cursor": encoded})
    assert [task["id"] for task in response.json()] == [second["id"]]
