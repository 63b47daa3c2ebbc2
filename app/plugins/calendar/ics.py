"""Task: T-433, T-434, T-435
Spec: specs/features/calendar.md §The iCalendar document, §ETag

A feed's rows as an iCalendar document (RFC 5545, made by `icalendar`), and its entity tag,
computed from the same rows before anything is rendered.
"""

import hashlib
from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Component, Event, Timezone, Todo, vRecur

from app.core import Row

PRODID = "-//todo-api//calendar 1//EN"
# Part of every ETag: bumped when the rendering of the same rows changes.
FORMAT = "1"
# RFC 5545 §3.8.1.9: 1 is the highest, 9 the lowest, 0 undefined.
PRIORITY = {"high": 1, "medium": 5, "low": 9, "none": 0}


def entity_tag(rows: Sequence[Row], domain: str, refresh: timedelta) -> str:
    """A strong tag over what the document is made of: the settings it is rendered with, the
    feed's name, and each task's id and version (bumped by every change of the task) with its
    rule and zone, in the rows' order."""
    digest = hashlib.sha256(f"{FORMAT}\n{domain}\n{refresh}\n{rows[0]['name']}".encode())
    for row in rows:
        if row["id"] is not None:
            digest.update(
                f"\n{row['id']}.{row['version']}.{row['rule']}.{row['timezone']}".encode()
            )
    return f'"{digest.hexdigest()[:32]}"'


def _due(row: Row) -> datetime:
    """The due time: in the series' zone for a recurring task (its DTSTART and RRULE recur
    there, across DST), else in UTC."""
    due: datetime = row["due_at"]
    if row["rule"] is not None:
        return due.astimezone(ZoneInfo(row["timezone"]))
    return due.astimezone(UTC)


def _common(component: Component, row: Row, uid: str) -> None:
    component.add("uid", uid)
    # Without a METHOD, DTSTAMP is when the information last changed (RFC 5545 §3.8.7.2): the
    # task's own time, so the same rows render the same bytes.
    component.add("dtstamp", row["updated_at"])
    component.add("created", row["created_at"])
    component.add("last-modified", row["updated_at"])
    component.add("sequence", row["version"] - 1)
    component.add("summary", row["title"])
    if row["description"]:
        component.add("description", row["description"])
    if row["tags"]:
        component.add("categories", list(row["tags"]))
    priority = PRIORITY[str(row["priority"])]
    if priority:
        component.add("priority", priority)
    if row["rule"] is not None:
        component.add("rrule", vRecur.from_ical(row["rule"]))


def _todo(row: Row, domain: str) -> Todo:
    todo = Todo()
    _common(todo, row, f"{row['id']}@{domain}")
    due = _due(row)
    if row["rule"] is None:
        todo.add("due", due)
    else:
        # A recurring VTODO needs a DTSTART; with it, DUE would have to be strictly later
        # (§3.8.2.3), so the due time is DTSTART and a zero DURATION.
        todo.add("dtstart", due)
        todo.add("duration", timedelta(0))
    if row["completed"]:
        todo.add("status", "COMPLETED")
        todo.add("completed", row["completed_at"].astimezone(UTC))
        todo.add("percent-complete", 100)
    else:
        todo.add("status", "NEEDS-ACTION")
    return todo


def _event(row: Row, domain: str) -> Event:
    """The same task as an instant in time (no DTEND: §3.6.1), for calendars that show no
    VTODO; its UID is its own, so a calendar that shows both keeps them apart."""
    event = Event()
    _common(event, row, f"{row['id']}-due@{domain}")
    event.add("dtstart", _due(row))
    event.add("transp", "TRANSPARENT")  # a due time is not busy time
    return event


def render(rows: Sequence[Row], domain: str, refresh: timedelta) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", rows[0]["name"])
    calendar.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", refresh)
    # A VTIMEZONE for each TZID used, before the components using it: only a series' times
    # carry one (`_due`). Named here, not found by `add_missing_timezones`, which walks every
    # property of the document again (a third of a render).
    for zone in sorted({row["timezone"] for row in rows if row["rule"] is not None}):
        calendar.add_component(Timezone.from_tzid(zone))
    for row in rows:
        if row["id"] is not None:
            calendar.add_component(_todo(row, domain))
            calendar.add_component(_event(row, domain))
    return calendar.to_ical()


class Rendered:
    """Documents already rendered, by ETag, up to `budget` bytes (the least recently used go
    first). Safe because the tag is taken over every row a document is made of: the statement
    still runs on every poll (a revoked feed is a 404 at once), only the rendering, about a
    millisecond a task with icalendar, is spared when nothing changed."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.used = 0
        self.documents: OrderedDict[str, bytes] = OrderedDict()

    def get(self, tag: str) -> bytes | None:
        found = self.documents.get(tag)
        if found is not None:
            self.documents.move_to_end(tag)
        return found

    def put(self, tag: str, document: bytes) -> None:
        if len(document) <= self.budget and tag not in self.documents:
            self.documents[tag] = document
            self.used += len(document)
            while self.used > self.budget:
                self.used -= len(self.documents.popitem(last=False)[1])
