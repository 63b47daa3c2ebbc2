"""Task: T-187
Spec: specs/api/rest-endpoints.md §Reminders

Creating, reading and deleting reminders through the API, and every way a request is refused.
No worker runs here: nothing fires unless the test fires it.
"""

from datetime import UTC, datetime, timedelta

import asyncpg

from app.plugins.reminders.firing import fire_due
from app.testing import AppClient
from tests.plugins.reminders.conftest import (
    INBOX,
    add_reminder,
    new_task,
    reminders_of,
    state,
)

DUE = "2030-01-02T17:00:00Z"


async def test_absolute_and_relative_reminders(quiet: AppClient, user_of) -> None:
    user = await user_of(quiet)
    task = await new_task(user, due_at=DUE)
    absolute = await add_reminder(user, task["id"], at="2030-01-02T09:45:00+01:00")
    assert absolute["at"] == absolute["fire_at"] == "2030-01-02T08:45:00Z"
    assert absolute["offset"] is None and absolute["status"] == "pending"
    relative = await add_reminder(user, task["id"], offset="-PT15M")
    assert relative["offset"] == "-PT15M" and relative["at"] is None
    assert relative["fire_at"] == "2030-01-02T16:45:00Z"
    day = await add_reminder(user, task["id"], offset="-P1D")
    assert day["fire_at"] == "2030-01-01T17:00:00Z"
    on_time = await add_reminder(user, task["id"], offset="PT0S")
    assert on_time["fire_at"] == "2030-01-02T17:00:00Z"
    # Spelled canonically: 90 minutes after, a week before.
    assert (await add_reminder(user, task["id"], offset="+PT90M"))["offset"] == "PT1H30M"
    assert (await add_reminder(user, task["id"], offset="-P1W"))["offset"] == "-P7D"

    listed = (await user.get(reminders_of(task["id"]))).json()
    assert [r["fire_at"] for r in listed] == sorted(r["fire_at"] for r in listed)
    assert {r["id"] for r in listed} >= {absolute["id"], relative["id"], day["id"]}
    got = await user.get(f"/api/v1/reminders/{relative['id']}")
    assert got.status_code == 200 and got.json() == relative

    assert (await user.delete(f"/api/v1/reminders/{relative['id']}")).status_code == 204
    assert (await user.get(f"/api/v1/reminders/{relative['id']}")).status_code == 404
    assert (await user.delete(f"/api/v1/reminders/{relative['id']}")).status_code == 404


async def test_bad_reminders_are_422s_naming_the_problem(
    quiet: AppClient, user_of, db: "asyncpg.Connection[asyncpg.Record]"
) -> None:
    user = await user_of(quiet)
    task = await new_task(user, due_at=DUE)
    undated = await new_task(user)
    cases = [
        ({}, "either `at` or `offset`"),
        ({"at": DUE, "offset": "-PT15M"}, "either `at` or `offset`"),
        ({"at": "2030-01-02T17:00:00"}, "timezone"),
        ({"offset": "15 minutes"}, "ISO 8601 duration"),
        ({"offset": "-P1M"}, "years and months"),
        ({"offset": "P1Y"}, "years and months"),
        ({"offset": "PT1.5S"}, "ISO 8601 duration"),
        ({"offset": "-P367D"}, "366 days"),
        ({"offset": "P"}, "ISO 8601 duration"),
        ({"offset": "-PT15M", "note": "x"}, "Extra inputs"),
        ({"at": "0001-01-01T00:00:00+14:00"}, "out of range"),
    ]
    for body, problem in cases:
        response = await user.post(reminders_of(task["id"]), json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert problem in response.text, (body, response.text)
    # Relative needs a due time.
    response = await user.post(reminders_of(undated["id"]), json={"offset": "-PT15M"})
    assert response.status_code == 422
    assert "no due_at" in response.text
    assert response.json()["errors"][0]["loc"] == ["body", "offset"]
    assert await db.fetchval("SELECT count(*) FROM reminders") == 0


async def test_a_task_holds_a_limited_number_of_reminders(start_instance, user_of) -> None:
    client = await start_instance(worker=False, reminders={"max_per_task": 2})
    user = await user_of(client)
    task = await new_task(user)
    for hour in (8, 9):
        await add_reminder(user, task["id"], at=f"2030-01-02T0{hour}:00:00Z")
    response = await user.post(reminders_of(task["id"]), json={"at": DUE})
    assert response.status_code == 409
    assert "2 reminders already" in response.json()["detail"]


async def test_unknown_and_malformed_ids_are_404s(quiet: AppClient, user_of) -> None:
    user = await user_of(quiet)
    for path in (
        reminders_of("3f2b8c1e-7d4a-4e1b-9a65-0c2d5e8f1a47"),
        reminders_of("not-a-uuid%00"),
        "/api/v1/reminders/3f2b8c1e-7d4a-4e1b-9a65-0c2d5e8f1a47",
        "/api/v1/reminders/nope",
    ):
        assert (await user.get(path)).status_code == 404, path
    assert (await user.post(reminders_of("nope"), json={"at": DUE})).status_code == 404
    assert (await user.post(f"{INBOX}/nope/read")).status_code == 404
    assert (await user.get(INBOX, params={"before": "nope"})).status_code == 422
    assert (await user.get(INBOX, params={"limit": 201})).status_code == 422


async def test_the_inbox_pages_newest_first_and_marks_read(quiet: AppClient, user_of) -> None:
    user = await user_of(quiet)
    task = await new_task(user, title="Call the plumber")
    past = datetime.now(UTC) - timedelta(minutes=5)
    for n in range(3):
        await add_reminder(user, task["id"], at=(past + timedelta(seconds=n)).isoformat())
    assert await fire_due(quiet.app.state.database, state(quiet).clock.now(), 100) == 3
    first = await user.get(INBOX, params={"limit": 2})
    page = first.json()
    assert len(page) == 2 and page[0]["fired_at"] >= page[1]["fired_at"]
    assert page[0]["title"] == "Call the plumber" and page[0]["read_at"] is None
    link = first.headers["link"]
    assert 'rel="next"' in link and f"before={page[1]['id']}" in link
    rest = (await user.get(INBOX, params={"limit": 2, "before": page[1]["id"]})).json()
    assert len(rest) == 1 and "link" not in first.headers.get("x-none", "")
    assert {item["id"] for item in page + rest} == {
        item["id"] for item in (await user.get(INBOX)).json()
    }
    read = await user.post(f"{INBOX}/{rest[0]['id']}/read")
    assert read.status_code == 200 and read.json()["read_at"] is not None
    again = await user.post(f"{INBOX}/{rest[0]['id']}/read")
    assert again.json() == read.json()  # idempotent: read once
    listed = (await user.get(reminders_of(task["id"]))).json()
    assert {r["status"] for r in listed} == {"fired"}
