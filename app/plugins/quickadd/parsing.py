"""Task: T-420, T-421
Spec: specs/features/quickadd.md §Grammar, §Assumptions

Quick-add text read into a task's fields: `#tag`, `!priority`/`p1`, `@list`, a recurrence
(`every …`), a date and a time; the words left are the title. Each part found is reported with
the exact words it came from, and every guess is written into `assumed` (never silent).

Pure: the time ("now") and the time zone are given, so the same text always reads the same.
Dates are resolved on the wall clock of the zone with `zoneinfo`, rules are RFC 5545 RRULEs
whose first occurrence python-dateutil's `rrule` finds (the recurring plugin's own library).
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrulestr

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
BYDAY = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
MONTHS = {
    name: number
    for number, names in enumerate(
        [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
         ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
         ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
         ("december", "dec")],
        start=1,
    )
    for name in names
}  # fmt: skip
# Todoist's p1 (most urgent) .. p4 (none) and plain words, onto the tasks plugin's Priority.
PRIORITIES = {
    "1": "high", "2": "medium", "3": "low", "4": "none",
    "high": "high", "medium": "medium", "med": "medium", "low": "low", "none": "none",
}  # fmt: skip
# A date without a time is due at the end of that day on the wall clock.
END_OF_DAY = time(23, 59)

_DAY = "|".join(WEEKDAYS)
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_ORD = r"(\d{1,2})(?:st|nd|rd|th)?"
_B = r"(?<![\w#@!])"  # a phrase starts a word (not inside one, not a marker's)
_E = r"(?![\w])"
_UNITS = r"(day|week|month|year)s?"
_COUNT = r"(\d{1,3}|a|an|one|two|three|four|five|six|seven|eight|nine|ten|other)"
NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
           "seven": 7, "eight": 8, "nine": 9, "ten": 10, "other": 2}  # fmt: skip

TAG = re.compile(r"(?<!\S)#([^\s#@!]{1,50})(?!\S)")
PRIORITY = re.compile(r"(?<!\S)(?:!(1|2|3|4|high|medium|med|low|none)|[pP]([1-4]))(?!\S)", re.I)
LIST = re.compile(r"(?<!\S)@([^\s#@!]{1,200})(?!\S)")
RECURRENCE = re.compile(
    _B + r"(?:"
    r"every\s+(?P<weekday>weekday)s?"
    r"|every\s+(?P<weekend>weekend)s?"
    r"|every\s+(?P<days>(?:" + _DAY + r")s?(?:\s*(?:,|and|,\s*and)\s*(?:" + _DAY + r")s?)*)"
    r"|every\s+month\s+on\s+the\s+(?:(?P<last>last\s+day)|"
    + _ORD.replace("(", "(?P<mday>", 1)
    + ")"
    r"|every\s+(?P<nth>\d{1,2})(?:st|nd|rd|th)"
    r"|every\s+year\s+on\s+(?P<ymonth>"
    + _MONTH
    + r")\s+"
    + _ORD.replace("(", "(?P<yday>", 1)
    + r"|every\s+(?:(?P<count>\d{1,3}|other|two|three|four|five|six)\s+)?(?P<unit>day|week|month|year)s?"
    r"|(?P<adverb>daily|weekly|monthly|yearly|annually)"
    r")" + _E,
    re.I,
)
TIME = re.compile(
    _B + r"(?:(?:at|@)\s+)?(?:"
    r"(?P<word>noon|midnight)"
    r"|(?P<h1>\d{1,2})(?::(?P<m1>\d{2}))?\s*(?P<ampm>am|pm|a\.m\.|p\.m\.)"
    r"|(?P<h2>\d{1,2}):(?P<m2>\d{2})"
    r")" + _E + r"|" + _B + r"(?:at|@)\s+(?P<h3>\d{1,2})" + _E,
    re.I,
)
DATE = re.compile(
    _B + r"(?:"
    r"(?P<today>today|tonight)"
    r"|(?P<after>day\s+after\s+tomorrow)"
    r"|(?P<tomorrow>tomorrow|tmrw)"
    r"|(?:(?P<next>next|this|on)\s+)?(?P<weekday>" + _DAY + r")"
    r"|in\s+"
    + _COUNT.replace("(", "(?P<n>", 1)
    + r"\s+"
    + _UNITS.replace("(", "(?P<unit>", 1)
    + r"|next\s+(?P<period>week|month|year)"
    r"|(?:on\s+)?(?P<iso>\d{4}-\d{2}-\d{2})"
    r"|(?:on\s+)?(?P<month1>"
    + _MONTH
    + r")\.?\s+"
    + _ORD.replace("(", "(?P<day1>", 1)
    + r"(?:,?\s+(?P<year1>\d{4}))?"
    r"|(?:on\s+)?(?:the\s+)?"
    + _ORD.replace("(", "(?P<day2>", 1)
    + r"(?:\s+of)?\s+(?P<month2>"
    + _MONTH
    + r")(?:,?\s+(?P<year2>\d{4}))?"
    r")" + _E,
    re.I,
)


class Refused(ValueError):
    """Text that cannot make a task: the message says why and names the words."""


@dataclass
class Parse:
    """What the text said, and where."""

    title: str
    tags: list[str] = field(default_factory=list)
    priority: str | None = None
    list_name: str | None = None
    due_at: datetime | None = None
    rrule: str | None = None
    timezone: str = "UTC"
    words: dict[str, list[str]] = field(default_factory=dict)
    assumed: list[str] = field(default_factory=list)

    def explanation(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "due_at": self.due_at,
            "rrule": self.rrule,
            "tags": self.tags,
            "priority": self.priority,
            "list": self.list_name,
            "timezone": self.timezone,
            "words": self.words,
            "assumed": self.assumed,
        }


class _Text:
    """The text with the spans taken so far blanked out (so a word is read once)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.left = text

    def take(self, pattern: re.Pattern[str]) -> list[re.Match[str]]:
        found = list(pattern.finditer(self.left))
        for match in found:
            start, end = match.span()
            self.left = self.left[:start] + " " * (end - start) + self.left[end:]
        return found

    def words(self, match: re.Match[str]) -> str:
        return self.text[match.start() : match.end()]


def parse(text: str, now: datetime, zone: ZoneInfo) -> Parse:
    """Read `text` as said at `now` (aware) by someone on `zone`'s wall clock."""
    source = _Text(text)
    result = Parse(title="", timezone=zone.key)
    words = result.words

    for match in source.take(TAG):
        words.setdefault("tags", []).append(source.words(match))
        if match.group(1) not in result.tags:
            result.tags.append(match.group(1))
    priorities = source.take(PRIORITY)
    if priorities:
        last = priorities[-1]
        result.priority = PRIORITIES[(last.group(1) or last.group(2)).lower()]
        words["priority"] = [source.words(m) for m in priorities]
        if len(priorities) > 1:
            result.assumed.append(f"several priorities given: the last one ({source.words(last)})")
    lists = source.take(LIST)
    if lists:
        result.list_name = lists[-1].group(1)
        words["list"] = [source.words(m) for m in lists]
        if len(lists) > 1:
            result.assumed.append(f"several lists given: the last one ({source.words(lists[-1])})")

    rules = source.take(RECURRENCE)
    if len(rules) > 1:
        raise Refused("more than one recurrence: " + ", ".join(map(source.words, rules)))
    times = source.take(TIME)
    if len(times) > 1:
        raise Refused("more than one time: " + ", ".join(map(source.words, times)))
    dates = source.take(DATE)
    if len(dates) > 1:
        raise Refused("more than one date: " + ", ".join(map(source.words, dates)))

    local_now = now.astimezone(zone).replace(tzinfo=None)
    at = _time(times[0], result.assumed) if times else None
    if times:
        words["time"] = [source.words(times[0])]
    day = _date(dates[0], local_now, at, result.assumed) if dates else None
    if dates:
        words["date"] = [source.words(dates[0])]

    if rules:
        words["rrule"] = [source.words(rules[0])]
        result.rrule = _rule(rules[0])
        # The first occurrence: the rule's first from the date given, else its first ahead.
        wall = datetime.combine(day or local_now.date(), at or END_OF_DAY)
        wall = _first_after(result.rrule, wall, wall if day else max(wall, local_now))
        if at is None:
            result.assumed.append(
                "no time given: each occurrence is due at the end of its day (23:59)"
            )
        result.due_at = _instant(wall, zone, result.assumed)
    elif day is not None or at is not None:
        if day is None:
            assert at is not None
            day = local_now.date()
            if datetime.combine(day, at) <= local_now:
                day += timedelta(days=1)
                result.assumed.append(
                    f"a time without a date, already past today: tomorrow ({day})"
                )
            else:
                result.assumed.append(f"a time without a date: today ({day})")
        if at is None:
            at = END_OF_DAY
            result.assumed.append("no time given: due at the end of the day (23:59)")
        result.due_at = _instant(datetime.combine(day, at), zone, result.assumed)

    result.title = " ".join(source.left.split())
    if result.due_at is not None:
        result.assumed.append(f"times are on the wall clock of {zone.key}")
    return result


def _time(match: re.Match[str], assumed: list[str]) -> time:
    groups = match.groupdict()
    if groups["word"]:
        return time(12) if groups["word"].lower() == "noon" else time(0)
    if groups["h1"]:
        hour, minute = int(groups["h1"]), int(groups["m1"] or 0)
        if not 1 <= hour <= 12 or minute > 59:
            raise Refused(f"not a time: {match.group(0).strip()}")
        pm = groups["ampm"].lower().startswith("p")
        return time(hour % 12 + (12 if pm else 0), minute)
    written = groups["h2"] or groups["h3"]
    hour, minute = int(written), int(groups["m2"] or 0)
    if hour > 23 or minute > 59:
        raise Refused(f"not a time: {match.group(0).strip()}")
    if 1 <= hour <= 12 and not written.startswith("0"):
        assumed.append(
            f"{match.group(0).strip()} without am/pm: read on the 24-hour clock as {hour:02}:{minute:02}"
        )
    return time(hour, minute)


def _date(match: re.Match[str], now: datetime, at: time | None, assumed: list[str]) -> date:
    groups = match.groupdict()
    today = now.date()
    words = match.group(0).strip()
    if groups["today"]:
        return today
    if groups["after"]:
        return today + timedelta(days=2)
    if groups["tomorrow"]:
        return today + timedelta(days=1)
    if groups["weekday"]:
        target = WEEKDAYS.index(groups["weekday"].lower())
        ahead = (target - today.weekday()) % 7
        qualifier = (groups["next"] or "").lower()
        if ahead == 0:
            if qualifier == "next":
                assumed.append(f"{words} said on a {WEEKDAYS[target].title()}: a week from today")
                return today + timedelta(days=7)
            past = at is not None and datetime.combine(today, at) <= now
            if past:
                assumed.append(
                    f"{words} said on a {WEEKDAYS[target].title()}, the time past: next week's"
                )
                return today + timedelta(days=7)
            assumed.append(f"{words} said on a {WEEKDAYS[target].title()}: today")
            return today
        if qualifier == "next":
            assumed.append(
                f"{words}: the coming {WEEKDAYS[target].title()}, not the one a week later"
            )
        return today + timedelta(days=ahead)
    if groups["n"]:
        count = NUMBERS.get(groups["n"].lower()) or int(groups["n"])
        return today + relativedelta(**{groups["unit"].lower() + "s": count})
    if groups["period"]:
        period = groups["period"].lower()
        if period == "week":
            assumed.append(f"{words}: next Monday")
            return today + timedelta(days=7 - today.weekday())
        if period == "month":
            assumed.append(f"{words}: the 1st of next month")
            return (today + relativedelta(months=1)).replace(day=1)
        assumed.append(f"{words}: January 1st of next year")
        return date(today.year + 1, 1, 1)
    if groups["iso"]:
        return _day(words, *map(int, groups["iso"].split("-")))
    month = MONTHS[(groups["month1"] or groups["month2"]).lower()]
    day = int(groups["day1"] or groups["day2"])
    year = groups["year1"] or groups["year2"]
    if year:
        return _day(words, int(year), month, day)
    found = _day(words, today.year, month, day, leap_ok=True)
    if found < today:
        found = _day(words, today.year + 1, month, day, leap_ok=True)
        assumed.append(f"{words} without a year, already past this year: {found.year}")
    return found


def _day(words: str, year: int, month: int, day: int, leap_ok: bool = False) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        if leap_ok and month == 2 and day == 29:  # the next leap year's
            for later in range(year + 1, year + 9):
                try:
                    return date(later, 2, 29)
                except ValueError:
                    continue
        raise Refused(f"no such date: {words}") from None


def _rule(match: re.Match[str]) -> str:
    """The RRULE the words say (without DTSTART: the task's due_at starts it)."""
    groups = match.groupdict()
    if groups["weekday"]:
        return "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
    if groups["weekend"]:
        return "FREQ=WEEKLY;BYDAY=SA,SU"
    if groups["days"]:
        named = re.findall(_DAY, groups["days"].lower())
        days = sorted({WEEKDAYS.index(d) for d in named})
        return "FREQ=WEEKLY;BYDAY=" + ",".join(BYDAY[d] for d in days)
    if groups["last"]:
        return "FREQ=MONTHLY;BYMONTHDAY=-1"
    if groups["mday"] or groups["nth"]:
        mday = int(groups["mday"] or groups["nth"])
        if not 1 <= mday <= 31:
            raise Refused(f"no such day of the month: {match.group(0).strip()}")
        return f"FREQ=MONTHLY;BYMONTHDAY={mday}"
    if groups["ymonth"]:
        month, mday = MONTHS[groups["ymonth"].lower()], int(groups["yday"])
        _day(match.group(0).strip(), 2028, month, mday)  # a leap year: any real date
        return f"FREQ=YEARLY;BYMONTH={month};BYMONTHDAY={mday}"
    if groups["adverb"]:
        adverb = groups["adverb"].lower()
        freq = "YEARLY" if adverb == "annually" else adverb.upper()
        return f"FREQ={freq}"
    freq = {"day": "DAILY", "week": "WEEKLY", "month": "MONTHLY", "year": "YEARLY"}
    rule = "FREQ=" + freq[groups["unit"].lower()]
    count = groups["count"]
    interval = NUMBERS.get(count.lower(), 0) or int(count) if count else 1
    if interval < 1:
        raise Refused(f"not a recurrence: {match.group(0).strip()}")
    if interval > 1:
        rule += f";INTERVAL={interval}"
    return rule


def _first_after(rule: str, start: datetime, after: datetime) -> datetime:
    """The rule's first occurrence from `start` on, at or after `after` (naive wall clock)."""
    found = rrulestr(rule, dtstart=start).after(after, inc=True)
    if found is None:
        raise Refused("the recurrence never happens")
    return found  # type: ignore[no-any-return]


def _instant(wall: datetime, zone: ZoneInfo, assumed: list[str]) -> datetime:
    """The instant of a wall-clock time in `zone`, saying which was taken when it is in a DST
    gap (it does not exist: the clock's offset before the change applies, as RFC 5545 says) or
    in a fold (it happens twice: the first)."""
    first = wall.replace(tzinfo=zone, fold=0)
    second = wall.replace(tzinfo=zone, fold=1)
    instant = first.astimezone(ZoneInfo("UTC"))
    shown = f"{wall:%Y-%m-%d %H:%M}"
    if instant.astimezone(zone).replace(tzinfo=None) != wall:
        real = instant.astimezone(zone)
        assumed.append(
            f"{shown} does not exist in {zone.key} (the clocks go forward): taken as {real:%H:%M %Z}"
        )
    elif first.utcoffset() != second.utcoffset():
        assumed.append(
            f"{shown} happens twice in {zone.key} (the clocks go back): the first one ({first:%Z})"
        )
    return instant
