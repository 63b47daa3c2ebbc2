"""Task: T-213
Spec: specs/features/recurring.md §The calendar's edges

A series whose next occurrence would fall outside [EARLIEST, LATEST], the instants the API can
represent, ends there: no successor, and the last occurrence is completed like any other. No
wall-clock time in any zone near year 1 or 9999 overflows. Rows stored before the range held
(due at 9999-12-31 or on 0001-01-01, written here by SQL as they sit in older databases) are
read, refused a rule and completed without a 500.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.core import EARLIEST, LATEST
from app.plugins.recurring import rules
from tests.plugins.recurring.conftest import Recurring
from tests.plugins.tasks.conftest import TASKS

# UTC+14 and UTC-12: the zones whose wall clock is furthest from UTC.
KIRITIMATI, GMT_MINUS_12 = "Pacific/Kiritimati", "Etc/GMT+12"


@pytest.mark.parametrize("timezone", [KIRITIMATI, GMT_MINUS_12, "UTC"])
async def test_a_daily_series_ends_on_the_last_day_the_api_can_represent(
    alice: Recurring, timezone: str
):
    task = await alice.recurring("FREQ=DAILY", "9999-12-29T20:00:00Z", timezone=timezone)
    assert (await alice.recurrence(task["id"])).json()["next_due_at"] == "9999-12-30T20:00:00Z"
    await alice.complete(task["id"])
    last = (await alice.recurrence(task["id"])).json()["successor_id"]
    assert (await alice.get(f"{TASKS}/{last}")).json()["due_at"] == "9999-12-30T20:00:00Z"
    # The day after is 9999-12-31T20:00Z: past LATEST (and past 9999 on Kiritimati's clock).
    recurrence = await alice.recurrence(last)
    assert recurrence.status_code == 200 and recurrence.json()["next_due_at"] is None
    assert (await alice.complete(last))["completed"]
    assert len(await alice.tasks()) == 2  # the series ended
    again = await alice.put(
        f"{TASKS}/{last}/recurrence", json={"rule": "FREQ=HOURLY", "timezone": timezone}
    )
    assert again.status_code == 200  # 20:00Z, 21:00Z, … 23:00Z are still representable
    assert again.json()["next_due_at"] == "9999-12-30T21:00:00Z"


@pytest.mark.parametrize(
    ("due_at", "timezone"),
    [
        ("9999-12-31T23:00:00+00:00", "UTC"),
        ("9999-12-31T23:00:00+00:00", KIRITIMATI),
        ("9999-12-31T23:00:00+00:00", GMT_MINUS_12),
        ("0001-01-01T03:00:00+00:00", "America/New_York"),  # year 0 on its clock
        ("0001-01-01T00:00:00+00:00", GMT_MINUS_12),
    ],
)
async def test_the_first_day_recurs_and_a_row_stored_outside_the_range_is_read_and_completed(
    alice: Recurring, db, due_at: str, timezone: str
):
    # First the first day the API can represent: the day after is there in every zone (year 1
    # has no daylight saving; New York's clock is its local mean time, UTC-4:56:02).
    task = await alice.recurring("FREQ=DAILY", "0001-01-02T03:00:00Z", timezone=timezone)
    assert (await alice.recurrence(task["id"])).json()["next_due_at"] == "0001-01-03T03:00:00Z"
    # Then as rows stood in databases written before the range was enforced. tasks_0002
    # repairs them and its CHECK refuses them now; without it (this clone only), the rule's
    # arithmetic must still hold at the calendar's edges.
    await db.execute("ALTER TABLE tasks DROP CONSTRAINT ck_tasks_due_at_representable")
    await db.execute(
        "UPDATE tasks SET due_at = $1 WHERE id = $2", datetime.fromisoformat(due_at), task["id"]
    )
    url = f"{TASKS}/{task['id']}/recurrence"
    recurrence = await alice.get(url)
    assert recurrence.status_code == 200 and recurrence.json()["next_due_at"] is None
    refused = await alice.put(url, json={"rule": "FREQ=HOURLY", "timezone": timezone})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["msg"].startswith("never produces an occurrence")
    completed = await alice.patch(f"{TASKS}/{task['id']}/complete")
    assert completed.status_code == 200 and completed.json()["completed"]
    assert len(await alice.tasks()) == 1  # no successor


ZONES = [KIRITIMATI, GMT_MINUS_12, "America/New_York", "Asia/Manila", "Europe/Berlin", "UTC"]
SHAPES = [
    "FREQ=YEARLY",
    "FREQ=YEARLY;BYWEEKNO=1,53;BYDAY=MO",
    "FREQ=YEARLY;BYYEARDAY=-1,366",
    "FREQ=MONTHLY",
    "FREQ=MONTHLY;BYDAY=-1FR",
    "FREQ=MONTHLY;BYMONTHDAY=-1;BYSETPOS=1",
    "FREQ=WEEKLY;BYDAY=MO,SU",
    "FREQ=DAILY",
    "FREQ=DAILY;UNTIL=99991231T235959Z",
    "FREQ=DAILY;UNTIL=00010101T000000Z",
    "FREQ=HOURLY",
    "FREQ=MINUTELY;INTERVAL=7",
]
INSTANTS = [
    datetime.min.replace(tzinfo=UTC),
    datetime(1, 1, 1, 3, tzinfo=UTC),
    EARLIEST,
    EARLIEST + timedelta(hours=3),
    LATEST - timedelta(days=2),
    LATEST - timedelta(hours=5),
    LATEST,
    datetime(9999, 12, 31, 23, tzinfo=UTC),
    datetime.max.replace(tzinfo=UTC),
]


@pytest.mark.parametrize("timezone", ZONES)
def test_no_wall_clock_near_year_1_or_9999_overflows(timezone: str):
    zone = ZoneInfo(timezone)
    for text in SHAPES:
        rule = rules.load(text)
        for after in INSTANTS:
            found = rules.next_due(rule, zone, after, 100)
            assert found is None or (after < found and EARLIEST <= found <= LATEST), (text, after)
