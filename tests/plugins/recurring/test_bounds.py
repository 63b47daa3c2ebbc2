"""Task: T-212
Spec: specs/features/recurring.md §Bounded work, §Rules

No rule costs more than a bounded amount of work: the shapes that cannot be bounded are refused
naming why, every search for the next occurrence pays for each period dateutil examines out of
`rules.BUDGET` (counted here, never timed), and a stored rule whose next occurrence costs more
ends its series instead of failing.
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app.plugins.recurring import rules
from tests.plugins.recurring.conftest import Recurring
from tests.plugins.tasks.conftest import TASKS

DUE = "2026-05-01T07:00:00Z"  # 09:00 in Berlin
EVERY_HOUR = ",".join(str(hour) for hour in range(24))
EVERY_MINUTE = ",".join(str(minute) for minute in range(60))
# The rules that cost most, each as it reached dateutil before: minutes of CPU for some.
WORST = [
    "FREQ=MINUTELY;BYSETPOS=2",
    "FREQ=HOURLY;BYSETPOS=2",
    "FREQ=DAILY;BYSETPOS=2",
    "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
    "FREQ=MINUTELY;BYHOUR=23;BYMONTH=2;BYMONTHDAY=30",
    "FREQ=MINUTELY;BYHOUR=23;BYMINUTE=59;BYMONTH=2;BYMONTHDAY=30",
    "FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30;BYSETPOS=" + ",".join(map(str, range(1, 32))),
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30;BYSETPOS=" + ",".join(map(str, range(1, 90))),
    f"FREQ=YEARLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR={EVERY_HOUR};BYMINUTE={EVERY_MINUTE}",
]


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ("FREQ=HOURLY;BYSETPOS=2", "cannot be bounded: BYSETPOS needs FREQ=DAILY or longer"),
        ("FREQ=MINUTELY;BYSETPOS=2", "cannot be bounded: BYSETPOS needs FREQ=DAILY or longer"),
        ("FREQ=HOURLY;BYMINUTE=0,30;BYSETPOS=-1", "BYSETPOS needs FREQ=DAILY or longer"),
        (
            f"FREQ=YEARLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR={EVERY_HOUR};BYMINUTE={EVERY_MINUTE}",
            "cannot be bounded: FREQ=YEARLY with these BYHOUR and BYMINUTE values makes sets of "
            "up to 527040 date-times",
        ),
        (f"FREQ=MONTHLY;BYHOUR={EVERY_HOUR};BYMINUTE={EVERY_MINUTE}", "use a shorter FREQ"),
        ("FREQ=DAILY;BYSETPOS=2", "BYSETPOS asks for a position beyond the 1 date-times"),
        ("FREQ=WEEKLY;BYHOUR=9,17;BYSETPOS=15,-15", "beyond the 14 date-times"),
        ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "within the work a rule may take"),
        ("FREQ=MINUTELY;BYHOUR=23;BYMONTH=2;BYMONTHDAY=30", "too rarely for FREQ=MINUTELY"),
        # From 09:00 with INTERVAL=2 only odd hours come: dateutil gives up (was a 500).
        ("FREQ=HOURLY;INTERVAL=2;BYHOUR=4", "dateutil cannot expand it"),
        # The 52nd Monday of February: dateutil's IndexError (was a 500).
        ("FREQ=YEARLY;BYMONTH=2;BYDAY=52MO", "dateutil cannot expand it"),
    ],
)
async def test_rules_that_cannot_be_bounded_are_422s_naming_why(alice, db, rule, problem):
    task = await alice.create(due_at=DUE)
    response = await alice.put(
        f"{TASKS}/{task['id']}/recurrence", json={"rule": rule, "timezone": "Europe/Berlin"}
    )
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["loc"] == ["body", "rule"] and problem in error["msg"], error
    assert await db.fetchval("SELECT count(*) FROM recurrences") == 0


async def test_dates_too_far_apart_for_their_freq_are_found_with_a_longer_one(alice):
    # Feb 29 on a Monday: after 2044 the next is in 2072, 28 years away. Day by day that is
    # over the budget; year by year, 28 periods.
    task = await alice.create(due_at="2044-03-01T08:00:00Z")
    url = f"{TASKS}/{task['id']}/recurrence"
    daily = {"rule": "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO", "timezone": "Europe/Berlin"}
    refused = await alice.put(url, json=daily)
    assert refused.status_code == 422
    assert "a longer FREQ, such as FREQ=YEARLY" in refused.json()["errors"][0]["msg"]
    yearly = daily | {"rule": daily["rule"].replace("DAILY", "YEARLY")}
    accepted = await alice.put(url, json=yearly)
    assert accepted.status_code == 200 and accepted.json()["next_due_at"] == "2072-02-29T08:00:00Z"


class Meter:
    """Counts the periods the searches examine and what they pay for them, through the rule's
    own `pay` (called before dateutil examines a period; one it cannot pay is not examined)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.searches: list[rules._Metered] = []
        self.periods = 0
        self.spent = 0
        pay = rules._Metered.pay

        def counting(pattern: rules._Metered, year: int) -> None:
            if pattern not in self.searches:
                self.searches.append(pattern)
            left = pattern.left
            pay(pattern, year)
            self.periods += 1
            self.spent += left - pattern.left

        monkeypatch.setattr(rules._Metered, "pay", counting)


@pytest.mark.parametrize("text", WORST)
def test_the_worst_rules_stop_within_the_budget(monkeypatch, text):
    meter = Meter(monkeypatch)
    rule = rules.load(text)  # as stored: the shape refusals do not apply, the budget does
    after = datetime(2026, 5, 1, 7, tzinfo=UTC)
    assert rules.next_due(rule, ZoneInfo("Europe/Berlin"), after, 100) is None
    (search,) = meter.searches
    assert 0 <= meter.spent == rules.BUDGET - search.left <= rules.BUDGET
    # Each period costs at least PERIOD + 1: the number examined is bounded whatever the rule.
    assert meter.periods <= rules.BUDGET // (rules.PERIOD + 1)
    assert meter.periods * search.cost <= meter.spent


async def test_a_stored_rule_over_the_budget_ends_its_series_where_it_was_found(
    alice: Recurring, db, monkeypatch
):
    # Accepted from the 28th (the 29th is a Monday), its next after 2044-02-29 is in 2072:
    # 28 years day by day, more than the budget. Completing it ends the series.
    rule = "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO"
    task = await alice.recurring(rule, "2044-02-28T08:00:00Z")
    assert (await alice.recurrence(task["id"])).json()["next_due_at"] == "2044-02-29T08:00:00Z"
    await alice.complete(task["id"])
    second = (await alice.recurrence(task["id"])).json()["successor_id"]
    meter = Meter(monkeypatch)
    assert (await alice.recurrence(second)).json()["next_due_at"] is None
    completed = await alice.complete(second)
    assert completed["completed"]
    assert len(await alice.tasks()) == 2  # no third: the series ended
    assert (await alice.recurrence(second)).json()["successor_id"] is None
    assert len(meter.searches) == 3 and meter.spent <= 3 * rules.BUDGET  # GET, complete, GET


async def test_a_stored_shape_now_refused_is_read_and_completed_within_the_budget(
    alice: Recurring, db, monkeypatch
):
    # A rule accepted before the shape refusals, as it sits in a database: it took 15 s a search.
    task = await alice.recurring("FREQ=HOURLY", DUE)
    await db.execute("UPDATE recurrences SET rule = 'FREQ=HOURLY;BYSETPOS=2'")
    meter = Meter(monkeypatch)
    recurrence = await alice.recurrence(task["id"])
    assert recurrence.status_code == 200 and recurrence.json()["next_due_at"] is None
    assert (await alice.complete(task["id"]))["completed"]
    assert len(await alice.tasks()) == 1
    assert len(meter.searches) == 2 and meter.spent <= 2 * rules.BUDGET
