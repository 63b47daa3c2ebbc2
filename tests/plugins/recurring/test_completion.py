"""Task: T-177
Spec: specs/features/recurring.md §Completion, §Rules

Completing an occurrence makes the next one, in the same transaction, once; on wall-clock time
in the rule's time zone.
"""

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

from tests.plugins.recurring.conftest import Recurring
from tests.plugins.tasks.conftest import TASKS

BERLIN = ZoneInfo("Europe/Berlin")


def local(value: str, zone: ZoneInfo = BERLIN) -> datetime:
    return datetime.fromisoformat(value).astimezone(zone)


async def successors(user: Recurring, task_id: str) -> list[dict]:
    return [t for t in await user.tasks() if t["id"] != task_id]


async def test_daily_at_nine_in_berlin_stays_at_nine_across_the_march_change(alice):
    # 2026-03-28 09:00 CET is 08:00Z; the clocks go forward on 2026-03-29.
    task = await alice.recurring(
        "FREQ=DAILY", "2026-03-28T08:00:00Z", title="Stretch", priority="high", tags=["body"]
    )
    await alice.complete(task["id"])
    (following,) = await successors(alice, task["id"])
    assert following["due_at"] == "2026-03-29T07:00:00Z"  # 09:00 CEST, UTC+2
    assert local(following["due_at"]).hour == 9
    assert local(task["due_at"]).utcoffset().total_seconds() == 3600
    assert local(following["due_at"]).utcoffset().total_seconds() == 7200
    assert following["title"] == "Stretch" and following["priority"] == "high"
    assert following["tags"] == ["body"] and not following["completed"]
    assert following["completed_at"] is None

    recurrence = (await alice.recurrence(following["id"])).json()
    first = (await alice.recurrence(task["id"])).json()
    assert recurrence["series_id"] == first["series_id"]
    assert first["successor_id"] == following["id"] and recurrence["successor_id"] is None
    assert recurrence["rule"] == "FREQ=DAILY" and recurrence["timezone"] == "Europe/Berlin"
    assert recurrence["next_due_at"] == "2026-03-30T07:00:00Z"

    # And back in October: 09:00 CEST then 09:00 CET.
    autumn = await alice.recurring("FREQ=DAILY", "2026-10-24T07:00:00Z")
    await alice.complete(autumn["id"])
    made = (await alice.recurrence(autumn["id"])).json()["successor_id"]
    after = (await alice.get(f"{TASKS}/{made}")).json()
    assert after["due_at"] == "2026-10-25T08:00:00Z" and local(after["due_at"]).hour == 9


async def test_weekly_and_monthly(alice):
    # Mondays and Thursdays at 18:30 New York time, from Thursday 2026-01-08.
    weekly = await alice.recurring(
        "RRULE:freq=weekly;byday=MO,TH", "2026-01-08T23:30:00Z", timezone="America/New_York"
    )
    assert (await alice.recurrence(weekly["id"])).json()["rule"] == "FREQ=WEEKLY;BYDAY=MO,TH"
    await alice.complete(weekly["id"])
    made = (await alice.recurrence(weekly["id"])).json()["successor_id"]
    monday = (await alice.get(f"{TASKS}/{made}")).json()["due_at"]
    assert monday == "2026-01-12T23:30:00Z"
    await alice.complete(made)
    thursday = (await alice.recurrence(made)).json()["successor_id"]
    assert (await alice.get(f"{TASKS}/{thursday}")).json()["due_at"] == "2026-01-15T23:30:00Z"

    # The last day of every month; and the 31st, skipping months without one.
    last = await alice.recurring("FREQ=MONTHLY;BYMONTHDAY=-1", "2026-01-31T08:00:00Z")
    assert (await alice.recurrence(last["id"])).json()["next_due_at"] == "2026-02-28T08:00:00Z"
    the31st = await alice.recurring("FREQ=MONTHLY", "2026-01-31T08:00:00Z")
    assert (await alice.recurrence(the31st["id"])).json()["next_due_at"] == "2026-03-31T07:00:00Z"


async def test_count_and_until_end_the_series(alice):
    task = await alice.recurring("FREQ=DAILY;COUNT=2", "2026-05-01T07:00:00Z")
    await alice.complete(task["id"])
    (second,) = await successors(alice, task["id"])
    assert (await alice.recurrence(second["id"])).json()["rule"] == "FREQ=DAILY;COUNT=1"
    assert (await alice.recurrence(second["id"])).json()["next_due_at"] is None
    await alice.complete(second["id"])
    assert len(await alice.tasks()) == 2  # the series ended with the second

    until = await alice.recurring("FREQ=DAILY;UNTIL=20260603T235959Z", "2026-06-02T07:00:00Z")
    assert (await alice.recurrence(until["id"])).json()["next_due_at"] == "2026-06-03T07:00:00Z"
    await alice.complete(until["id"])
    (last,) = [t for t in await alice.tasks() if t["due_at"] == "2026-06-03T07:00:00Z"]
    assert (await alice.recurrence(last["id"])).json()["next_due_at"] is None
    await alice.complete(last["id"])
    assert len(await alice.tasks()) == 4


async def test_completing_twice_makes_one_successor(alice, db):
    task = await alice.recurring("FREQ=DAILY", "2026-05-01T07:00:00Z")
    await alice.complete(task["id"])
    await alice.complete(task["id"])  # idempotent: already completed
    assert len(await successors(alice, task["id"])) == 1

    # Un-completed and completed again: still the one successor.
    reopened = await alice.patch(f"{TASKS}/{task['id']}", json={"completed": False})
    assert reopened.status_code == 200
    again = await alice.patch(f"{TASKS}/{task['id']}", json={"completed": True})
    assert again.status_code == 200 and again.json()["completed"]
    assert len(await successors(alice, task["id"])) == 1
    assert await db.fetchval("SELECT count(*) FROM recurrences") == 2


async def test_concurrent_completions_make_one_successor(alice):
    task = await alice.recurring("FREQ=DAILY", "2026-05-01T07:00:00Z")
    answers = await asyncio.gather(
        alice.patch(f"{TASKS}/{task['id']}/complete"),
        alice.patch(f"{TASKS}/{task['id']}", json={"completed": True}),
        alice.patch(f"{TASKS}/{task['id']}/complete"),
        alice.post(f"{TASKS}/batch", json={"operations": [{"op": "complete", "id": task["id"]}]}),
    )
    assert [a.status_code for a in answers] == [200, 200, 200, 200]
    assert len(await successors(alice, task["id"])) == 1


async def test_a_batch_completion_makes_the_next_occurrence(alice):
    task = await alice.recurring("FREQ=WEEKLY", "2026-05-01T07:00:00Z")
    response = await alice.post(
        f"{TASKS}/batch", json={"operations": [{"op": "complete", "id": task["id"]}]}
    )
    assert response.status_code == 200, response.text
    (following,) = await successors(alice, task["id"])
    assert following["due_at"] == "2026-05-08T07:00:00Z"


async def test_a_task_without_a_rule_or_due_at_completes_as_before(alice):
    plain = await alice.create(due_at="2026-05-01T07:00:00Z")
    undated = await alice.create()
    await alice.complete(plain["id"])
    await alice.complete(undated["id"])
    assert len(await alice.tasks()) == 2


async def test_the_change_feed_shows_the_successor_made_with_the_completion(alice, db):
    task = await alice.recurring("FREQ=DAILY", "2026-05-01T07:00:00Z")
    await alice.complete(task["id"])
    rows = await db.fetch(
        "SELECT entity, op FROM changes WHERE xid = "
        "(SELECT xid FROM changes WHERE entity = 'tasks' AND op = 'update')"
    )
    assert sorted((r["entity"], r["op"]) for r in rows) == [
        ("recurrences", "create"),
        ("recurrences", "update"),
        ("tasks", "create"),
        ("tasks", "update"),
    ]
