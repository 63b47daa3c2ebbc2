"""Task: T-171, T-210, T-213
Spec: specs/features/recurring.md §Rules, §Bounded work, §The calendar's edges

Recurrence rules: RFC 5545 `RRULE`s, parsed with python-dateutil, checked, normalised, and the
next occurrence after a given one found on wall-clock time in the rule's IANA time zone.

Every search is bounded by the work it does, not by the time it spans. dateutil walks a rule
period by period until it finds an occurrence or passes the year 9999, and a rule that matches
rarely or never (`FREQ=MINUTELY;BYSETPOS=2`) kept a CPU busy for minutes. Here each period
it examines is paid for out of BUDGET before it is examined, at a cost reckoned from the
rule's shape (the days a period holds, BYSETPOS, the date-times of a day); a search that cannot
pay stops. The shapes that could never be paid for are refused when a rule is set, naming why.
Occurrences outside [EARLIEST, LATEST] end the series, and no wall-clock time overflows.
"""

import re
import types
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil import rrule as dateutil_rrule
from dateutil.rrule import HOURLY, MINUTELY, MONTHLY, WEEKLY, YEARLY, rrule, rrulestr

from app.core import EARLIEST, LATEST

MAX_RULE_LENGTH = 500
# RFC 5545 §3.3.10's rule parts; anything else is refused by name.
PARTS = {
    "FREQ", "UNTIL", "COUNT", "INTERVAL", "BYSECOND", "BYMINUTE", "BYHOUR", "BYDAY",
    "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYMONTH", "BYSETPOS", "WKST",
}  # fmt: skip
FREQUENCIES = {"YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY", "MINUTELY", "SECONDLY"}
# RFC 5545: parts that MUST NOT be used with some frequencies.
NOT_WITH = {
    "BYWEEKNO": {"MONTHLY", "WEEKLY", "DAILY", "HOURLY", "MINUTELY", "SECONDLY"},
    "BYYEARDAY": {"MONTHLY", "WEEKLY", "DAILY"},
    "BYMONTHDAY": {"WEEKLY"},
}
UNTIL_FORM = re.compile(r"^\d{8}T\d{6}Z$")
NAME = re.compile(r"^[A-Z-]{1,20}$")
ORDINAL_DAY = re.compile(r"^[+-]?\d")

# The work one search for the next occurrence may do, in units of about one day examined by
# dateutil's filter loop (some 0.08 µs here): see specs/features/recurring.md §Bounded work.
BUDGET = 250_000
PERIOD = 30  # a period's own cost: its day list built, dateutil's bookkeeping
DAYS = {YEARLY: 366, MONTHLY: 31, WEEKLY: 7}  # the days a period holds (DAILY and shorter: 1)
TIMES = 30  # HOURLY and MINUTELY build their period's times anew, each period
POSITION = 10  # a BYSETPOS value: besides listing the period's days, a date-time made
CANDIDATE = 4  # a date-time made and compared (the first period's, before the start)
STEP = 3  # one step of HOURLY's or MINUTELY's search for the next BYHOUR or BYMINUTE value
MAX_SET = 7 * 24 * 60  # date-times one period may hold: a week of minutes
SUB_DAILY = {"HOURLY", "MINUTELY"}


class RuleError(ValueError):
    """A rule refused: the message says why, in words safe to answer (no input echoed back)."""


@dataclass(frozen=True)
class Rule:
    """A checked rule: its normalised text (no DTSTART; UNTIL in UTC) and its parts."""

    text: str
    count: int | None  # occurrences left, this one included (None: unbounded)
    until: datetime | None  # aware, UTC


def parse(text: str, stored: bool = False) -> Rule:
    """Check `text` (an RRULE, with or without its `RRULE:` prefix) and normalise it. A new
    rule must leave an occurrence after this one (COUNT 2 or more); a `stored` one may be the
    last of its series (COUNT=1)."""
    text = text.strip()
    if text.upper().startswith("RRULE:"):
        text = text[len("RRULE:") :]
    if not text or any(c in text for c in "\r\n:"):
        raise RuleError(
            "must be one RRULE (FREQ=…;…) without DTSTART, RDATE or EXDATE: the task's due_at "
            "is its start"
        )
    parts: dict[str, str] = {}
    for part in text.upper().split(";"):
        name, equals, value = part.partition("=")
        name = name.strip()
        if not equals or not value.strip():
            raise RuleError("is not a valid RRULE: each part is NAME=VALUE, separated by ';'")
        if name not in PARTS:
            shown = f" {name}" if NAME.match(name) else ""
            raise RuleError(f"is not a valid RRULE: unknown part{shown}")
        if name in parts:
            raise RuleError(f"is not a valid RRULE: {name} is given twice")
        parts[name] = value.strip()
    frequency = parts.get("FREQ")
    if frequency is None:
        raise RuleError("is not a valid RRULE: FREQ is required")
    if frequency not in FREQUENCIES:
        raise RuleError("is not a valid RRULE: FREQ is one of " + ", ".join(sorted(FREQUENCIES)))
    if frequency == "SECONDLY" or len(parts.get("BYSECOND", "0").split(",")) > 1:
        raise RuleError("fires more often than once a minute (FREQ=SECONDLY, or several BYSECOND)")
    for name, frequencies in NOT_WITH.items():
        if name in parts and frequency in frequencies:
            raise RuleError(f"is not a valid RRULE: {name} cannot be used with FREQ={frequency}")
    if frequency not in {"MONTHLY", "YEARLY"} and any(
        ORDINAL_DAY.match(day) for day in parts.get("BYDAY", "").split(",")
    ):
        raise RuleError(
            "is not a valid RRULE: a numbered BYDAY (1MO, -1FR) needs FREQ=MONTHLY or YEARLY"
        )
    if "COUNT" in parts and "UNTIL" in parts:
        raise RuleError("is not a valid RRULE: COUNT and UNTIL cannot both be given")
    count = None
    if "COUNT" in parts:
        if not parts["COUNT"].isdigit() or len(parts["COUNT"]) > 6:
            raise RuleError("is not a valid RRULE: COUNT is a whole number")
        count = int(parts["COUNT"])
        if count < (1 if stored else 2):
            raise RuleError("never produces an occurrence after the task's due_at (COUNT < 2)")
    until = None
    if "UNTIL" in parts:
        if not UNTIL_FORM.match(parts["UNTIL"]):
            raise RuleError(
                "UNTIL must be a date-time in UTC, as 20271231T235959Z (RFC 5545, for a start "
                "in a time zone)"
            )
        try:
            until = datetime.strptime(parts["UNTIL"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            raise RuleError("UNTIL is not a valid date-time") from None
    body = {name: value for name, value in parts.items() if name not in {"COUNT", "UNTIL"}}
    try:  # let dateutil check the values (BYDAY=XX, BYMONTH=13, INTERVAL=0, …)
        checked = rrulestr(_text(body), dtstart=datetime(2000, 1, 1))
    except (ValueError, TypeError, KeyError, IndexError, OverflowError):
        raise RuleError("is not a valid RRULE: a part has a value out of range") from None
    assert isinstance(checked, rrule)
    if checked._interval < 1 or checked._interval > 10_000:
        raise RuleError("is not a valid RRULE: INTERVAL is between 1 and 10000")
    if not stored:  # a stored rule was accepted: BUDGET alone bounds what it costs
        _refuse_unbounded(body)
    ordered = {"FREQ": frequency, **{k: v for k, v in sorted(body.items()) if k != "FREQ"}}
    if count is not None:
        ordered["COUNT"] = str(count)
    if until is not None:
        ordered["UNTIL"] = until.strftime("%Y%m%dT%H%M%SZ")
    return Rule(_text(ordered), count, until)


def _refuse_unbounded(parts: dict[str, str]) -> None:
    """Refuse, naming why, the shapes whose sets dateutil cannot build within BUDGET or that
    can never yield: they would cost the whole budget on every search."""
    frequency = parts["FREQ"]
    positions = [int(p) for p in parts.get("BYSETPOS", "").split(",") if p]
    if positions and frequency in SUB_DAILY:
        raise RuleError(
            f"cannot be bounded: BYSETPOS needs FREQ=DAILY or longer (with FREQ={frequency} "
            "each set is one hour or minute, holding the times BYMINUTE gives it: choose them "
            "with BYMINUTE)"
        )
    times = 1  # the date-times of one day of a set: BYSECOND has one value at most
    for name in {"HOURLY": ["BYMINUTE"], "MINUTELY": []}.get(frequency, ["BYHOUR", "BYMINUTE"]):
        times *= len(set(parts.get(name, "0").split(",")))
    size = {"YEARLY": 366, "MONTHLY": 31, "WEEKLY": 7}.get(frequency, 1) * times
    if size > MAX_SET:
        raise RuleError(
            f"cannot be bounded: FREQ={frequency} with these BYHOUR and BYMINUTE values makes "
            f"sets of up to {size} date-times (at most {MAX_SET}): use a shorter FREQ"
        )
    if positions and all(abs(p) > size for p in positions):
        raise RuleError(
            "never produces an occurrence: BYSETPOS asks for a position beyond the "
            f"{size} date-times a FREQ={frequency} set can hold"
        )


def _text(parts: dict[str, str]) -> str:
    return ";".join(f"{name}={value}" for name, value in parts.items())


def following(
    rule: Rule, time_zone: ZoneInfo, after: datetime, horizon_years: int
) -> datetime | None:
    """The first occurrence of `rule` after `after` (aware), in UTC: `after` is the start
    (DTSTART), taken on wall-clock time in `time_zone`, and so is every occurrence (09:00 stays
    09:00 across a change of the zone's offset). None when the series ends: COUNT, UNTIL, no
    occurrence within `horizon_years`, or none inside [EARLIEST, LATEST], the instants the API
    can represent. A wall-clock time the zone skips (02:30 when the clocks go forward) is taken
    with the offset before the gap, and one it repeats as the first of the two (RFC 5545
    §3.3.5). RuleError when dateutil finds the rule empty from this start, or the search would
    cost more than BUDGET."""
    if rule.count is not None and rule.count < 2:
        return None
    start = _local(after, time_zone)
    if start is None:  # beyond the zone's calendar (a row stored before the range held)
        return None
    until = None
    if rule.until is not None:
        until = _local(rule.until, time_zone)
        if until is None and rule.until <= after:
            return None
        # else: UNTIL lies beyond the zone's calendar, so every local time is before it
    body = rule.text.split(";COUNT=")[0].split(";UNTIL=")[0]
    try:
        pattern = _Metered(body, start, until, start.year + horizon_years + 1)
        found = pattern.after(start)
    except _Exhausted:
        raise RuleError(_EXHAUSTED.format(frequency=body.split(";")[0])) from None
    except (ValueError, TypeError, IndexError):
        # dateutil gives up on some rules from some starts: a ValueError when no BYHOUR or
        # BYMINUTE value can be reached with this INTERVAL, a TypeError when its step search
        # finds none, an IndexError for a numbered BYDAY past the end of a short month.
        raise RuleError(
            "never produces an occurrence after the task's due_at (dateutil cannot expand it "
            "from there: a BYHOUR or BYMINUTE value out of reach for this INTERVAL, or a "
            "numbered BYDAY beyond its month)"
        ) from None
    except _Beyond:
        return None
    if found is None or found - start > timedelta(days=366 * horizon_years):
        return None
    try:
        occurrence = found.replace(tzinfo=time_zone, fold=0).astimezone(UTC)
    except (OverflowError, ValueError):  # after 9999-12-31 in UTC
        return None
    return occurrence if EARLIEST <= occurrence <= LATEST else None


def next_due(
    rule: Rule, time_zone: ZoneInfo, after: datetime, horizon_years: int
) -> datetime | None:
    """`following`, where a stored rule whose next occurrence cannot be found within BUDGET ends
    its series: what completing an occurrence and reading a recurrence do (never an error: the
    rule was accepted, and only its later occurrences cost more)."""
    try:
        return following(rule, time_zone, after, horizon_years)
    except RuleError:
        return None


def _local(instant: datetime, time_zone: ZoneInfo) -> datetime | None:
    """`instant`'s wall-clock time in `time_zone` (naive); None outside Python's calendar."""
    try:
        return instant.astimezone(time_zone).replace(tzinfo=None)
    except (OverflowError, ValueError):  # which one depends on the zone and the datetime
        return None


_EXHAUSTED = (
    "never produces an occurrence after the task's due_at within the work a rule may take: it "
    "matches too rarely for {frequency} (a longer FREQ, such as FREQ=YEARLY, finds such dates "
    "with less work)"
)


class _Exhausted(Exception):
    """The search spent its budget."""


class _Beyond(Exception):
    """The search passed the horizon."""


class _Periods(dateutil_rrule._iterinfo):
    """dateutil's source of periods (a year, a month, a week, a day, for HOURLY and MINUTELY
    too): every period the iterator examines is asked of it once, so it is paid for here."""

    def ydayset(self, year: int, month: int, day: int) -> Any:
        self.rrule.pay(year)
        return super().ydayset(year, month, day)

    def mdayset(self, year: int, month: int, day: int) -> Any:
        self.rrule.pay(year)
        return super().mdayset(year, month, day)

    def wdayset(self, year: int, month: int, day: int) -> Any:
        self.rrule.pay(year)
        return super().wdayset(year, month, day)

    def ddayset(self, year: int, month: int, day: int) -> Any:
        self.rrule.pay(year)
        return super().ddayset(year, month, day)


class _Metered(rrule):
    """A dateutil rule that pays for each period it examines, out of BUDGET, and stops
    (`_Exhausted`) when it cannot, or (`_Beyond`) once past `last_year`. dateutil's iterator
    runs until it finds an occurrence or passes the year 9999, so a rule that matches rarely
    (`FREQ=MINUTELY;BYSETPOS=2` never) would keep a CPU busy for minutes; neither UNTIL nor
    COUNT stops it, they are checked on occurrences only."""

    # dateutil's own iterator (the same code object, not a copy), whose module globals differ
    # in one name: its periods come from `_Periods`. dateutil itself is left unchanged.
    _iter = types.FunctionType(
        rrule._iter.__code__, {**vars(dateutil_rrule), "_iterinfo": _Periods}, "_iter"
    )

    def __init__(self, body: str, start: datetime, until: datetime | None, last_year: int):
        parsed = rrulestr(body, dtstart=start)
        assert isinstance(parsed, rrule)
        super().__init__(
            parsed._freq,
            dtstart=start,
            interval=parsed._interval,
            wkst=parsed._wkst,
            until=until,
            **parsed._original_rule,
        )
        days = DAYS.get(self._freq, 1)
        self.cost = PERIOD + days + len(self._bysetpos or ()) * (days + POSITION)
        if self._freq in {HOURLY, MINUTELY}:
            self.cost += TIMES
        if self._freq == HOURLY and self._byhour:
            self.cost += STEP * 24
        elif self._freq == MINUTELY and (self._byhour or self._byminute):
            # Up to a day of minutes stepped through to reach an hour of BYHOUR.
            self.cost += STEP * (24 * 60 if self._byhour else 60)
        # The first period's date-times before the start are made and passed over, one by one.
        self.first = CANDIDATE * days * self.times()
        self.left = BUDGET
        self.last_year = last_year

    def times(self) -> int:
        """The date-times of one day of a period: the product of BYHOUR, BYMINUTE, BYSECOND
        (one for each part a FREQ's own unit or the start fills in)."""
        if self._timeset is not None:
            return len(self._timeset)
        return len(self._byminute) * len(self._bysecond) if self._freq == HOURLY else 1

    def pay(self, year: int) -> None:
        """Pay for the period about to be examined, or stop before it is."""
        if year > self.last_year:
            raise _Beyond
        cost = self.cost + self.first
        if cost > self.left:
            raise _Exhausted
        self.left -= cost
        self.first = 0


def successor_rule(rule: Rule) -> Rule:
    """The rule the next occurrence carries: the same, one fewer left of a COUNT."""
    if rule.count is None:
        return rule
    count = rule.count - 1
    return Rule(rule.text.replace(f";COUNT={rule.count}", f";COUNT={count}"), count, rule.until)


def load(text: str) -> Rule:
    """A rule as stored (already checked)."""
    return parse(text, stored=True)
