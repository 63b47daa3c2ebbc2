"""Task: T-201, T-204
Spec: specs/api/rest-endpoints.md §Limits, §Reminders

A reminder's `at` lies in the range the API can represent: its edges are taken in any zone and
answered in UTC with `Z`, one microsecond beyond (or the calendar's own edges) is a 422 naming
`at` that stores nothing. A relative reminder's time is computed up to the range's very edge.
What fires at the edge is answered with offsets, in the inbox and in the feed.
"""

import asyncpg
import pytest

from app.plugins.reminders.firing import fire_due
from app.testing import AppClient
from tests.plugins.reminders.conftest import INBOX, add_reminder, new_task, reminders_of, state
from tests.plugins.tasks.instants import BOUND_IDS, BOUNDS, CALENDAR_EDGES, naked_datetimes, utc

DUE = "2030-01-02T17:00:00Z"


@pytest.mark.parametrize(("edge", "beyond"), BOUNDS, ids=BOUND_IDS)
async def test_at_on_the_edge_is_taken_and_one_microsecond_beyond_is_422(
    quiet: AppClient, user_of, db: "asyncpg.Connection[asyncpg.Record]", edge: str, beyond: str
) -> None:
    user = await user_of(quiet)
    task = await new_task(user, due_at=DUE)
    for at in (beyond, *CALENDAR_EDGES):
        response = await user.post(reminders_of(task["id"]), json={"at": at})
        assert response.status_code == 422, (at, response.text)
        assert [error["loc"] for error in response.json()["errors"]] == [["body", "at"]]
    assert await db.fetchval("SELECT count(*) FROM reminders") == 0
    reminder = await add_reminder(user, task["id"], at=edge)
    assert reminder["at"] == reminder["fire_at"] == utc(edge)
    assert (await user.get(f"/api/v1/reminders/{reminder['id']}")).json() == reminder


async def test_a_relative_reminder_reaches_the_ranges_edge(quiet: AppClient, user_of) -> None:
    user = await user_of(quiet)
    latest, _ = BOUNDS[2]
    task = await new_task(user, due_at=latest)
    before = await add_reminder(user, task["id"], offset="-PT15M")
    assert before["fire_at"] == "9999-12-30T23:44:59.999999Z"
    on_time = await add_reminder(user, task["id"], offset="PT0S")
    assert on_time["fire_at"] == utc(latest)
    after = await add_reminder(user, task["id"], offset="PT1S")  # beyond the range: no time
    assert after["fire_at"] is None and after["status"] == "pending"


async def test_what_fires_at_the_edge_is_answered_with_offsets(quiet: AppClient, user_of) -> None:
    user = await user_of(quiet)
    task = await new_task(user, due_at=DUE)
    # The calendar's first instant once became -infinity, fired at once, and was answered
    # without an offset (and broke the feed).
    attempt = await user.post(reminders_of(task["id"]), json={"at": CALENDAR_EDGES[0]})
    earliest, _ = BOUNDS[0]
    await add_reminder(user, task["id"], at=earliest)
    await fire_due(quiet.app.state.database, state(quiet).clock.now(), 100)
    inbox = (await user.get(INBOX)).json()
    assert naked_datetimes(inbox) == []
    feed = await user.get("/api/v1/changes")
    assert feed.status_code == 200, feed.text
    assert naked_datetimes(feed.json()) == []
    assert naked_datetimes((await user.get(reminders_of(task["id"]))).json()) == []
    assert attempt.status_code == 422
    assert [item["fire_at"] for item in inbox] == [utc(earliest)]
