"""Task: T-171
Spec: specs/features/recurring.md §Rules

Recurrence rules: RFC 5545 `RRULE`s, parsed with python-dateutil, checked, normalised, and the
next occurrence after a given one found on wall-clock time in the rule's IANA time zone.

Every search is bounded. dateutil walks a rule period by period until it finds an occurrence or
passes the year 9999, so a rule that can never match (`BYMONTH=2;BYMONTHDAY=31`) would keep it
busy for seconds. The Gregorian calendar repeats exactly every 400 years (146097 days, a whole
number of weeks), so the search runs on the same wall-clock time moved by a multiple of 400
years to just `horizon_years` (plus less than 400) before 9999: the same occurrences, at the
same offsets, and dateutil stops at 9999 after a bounded number of periods.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from dateutil.rrule import rrule, rrulestr

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
LAST_YEAR = 9999
CYCLE = 400  # years after which the Gregorian calendar repeats, weekdays included


class RuleError(ValueError):
    """A rule refused: the message says why, in words safe to answer (no input echoed back)."""


@dataclass(frozen=True)
class Rule:
    """A checked rule: its normalised text (no DTSTART; UNTIL in UTC) and its parts."""

    text: str
    count: int | None  # occurrences left, this one included (None: unbounded)
    until: datetime | None  # aware, UTC


@cache
def time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def zone(name: str) -> ZoneInfo:
    """The IANA time zone `name`; RuleError when there is none of that name."""
    if name not in time_zones():
        raise RuleError("is not a known IANA time zone, such as Europe/Berlin")
    return ZoneInfo(name)


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
    ordered = {"FREQ": frequency, **{k: v for k, v in sorted(body.items()) if k != "FREQ"}}
    if count is not None:
        ordered["COUNT"] = str(count)
    if until is not None:
        ordered["UNTIL"] = until.strftime("%Y%m%dT%H%M%SZ")
    return Rule(_text(ordered), count, until)


def _text(parts: dict[str, str]) -> str:
    return ";".join(f"{name}={value}" for name, value in parts.items())


def following(
    rule: Rule, time_zone: ZoneInfo, after: datetime, horizon_years: int
) -> datetime | None:
    """The first occurrence of `rule` after `after` (aware), in UTC: `after` is the start
    (DTSTART), taken on wall-clock time in `time_zone`, and so is every occurrence (09:00 stays
    09:00 across a change of the zone's offset). None when the series ends (COUNT, UNTIL), or
    has no occurrence within `horizon_years`. A wall-clock time the zone skips (02:30 when the
    clocks go forward) is taken with the offset before the gap, and one it repeats as the first
    of the two (RFC 5545 §3.3.5)."""
    if rule.count is not None and rule.count < 2:
        return None
    start = after.astimezone(time_zone).replace(tzinfo=None)
    # Move to the last cycles before 9999, leaving horizon_years (and < 400 more) to search.
    shift = (LAST_YEAR - horizon_years - 1 - start.year) // CYCLE * CYCLE
    moved_start = start.replace(year=start.year + shift)
    body = rule.text.split(";COUNT=")[0].split(";UNTIL=")[0]
    pattern = rrulestr(body, dtstart=moved_start)
    assert isinstance(pattern, rrule)
    if rule.until is not None:
        until = rule.until.astimezone(time_zone).replace(tzinfo=None)
        if until.year + shift > LAST_YEAR:
            until = datetime(LAST_YEAR, 12, 31, 23, 59, 59)
        else:
            until = until.replace(year=until.year + shift)
        pattern = pattern.replace(until=until)
    found = pattern.after(moved_start)
    if found is None:
        return None
    local = start + (found - moved_start)
    if local - start > timedelta(days=366 * horizon_years):
        return None
    return local.replace(tzinfo=time_zone, fold=0).astimezone(UTC)


def successor_rule(rule: Rule) -> Rule:
    """The rule the next occurrence carries: the same, one fewer left of a COUNT."""
    if rule.count is None:
        return rule
    count = rule.count - 1
    return Rule(rule.text.replace(f";COUNT={rule.count}", f";COUNT={count}"), count, rule.until)


def load(text: str) -> Rule:
    """A rule as stored (already checked)."""
    return parse(text, stored=True)
