"""Task: T-182, T-201
Spec: specs/api/rest-endpoints.md §Reminders

Request and response bodies. A new reminder is absolute (`at`, an `app.core.Instant`, stored
and answered in UTC) or relative to its task's `due_at` (`offset`, an ISO 8601 duration); never
both, never neither. Unknown fields are a 422.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, model_validator

from app.core import Instant, documented
from app.plugins.reminders.durations import canonical, format_offset

Offset = Annotated[str, Field(max_length=40), AfterValidator(canonical)]

REMINDER_ID = "0c6f0b1e-52f4-4d7a-8a8e-4f2b7d9c1a10"
TASK_ID = "3f2b8c1e-7d4a-4e1b-9a65-0c2d5e8f1a47"
USER_ID = "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d"


class ReminderCreate(BaseModel):
    """`at` or `offset`, exactly one."""

    model_config = documented({"offset": "-PT15M"}, {"at": "2030-01-02T08:45:00Z"}, extra="forbid")

    at: Instant | None = None
    """When to remind, with a timezone, from 0001-01-02T00:00:00Z to 9999-12-30T23:59:59.999999Z
    (answered in UTC); a time already past fires at once."""
    offset: Offset | None = None
    """When to remind relative to the task's `due_at`, an ISO 8601 duration of weeks, days,
    hours, minutes or seconds, at most 366 days either way: `-PT15M` (15 minutes before),
    `PT0S`, `-P1D`. The task must have a `due_at`."""

    @model_validator(mode="after")
    def _one_kind(self) -> "ReminderCreate":
        if (self.at is None) == (self.offset is None):
            raise ValueError("give either `at` or `offset`, not both and not neither")
        return self


Status = Literal["pending", "fired", "cancelled"]


class ReminderOut(BaseModel):
    """A reminder of one of your tasks."""

    model_config = documented(
        {
            "id": REMINDER_ID,
            "user_id": USER_ID,
            "task_id": TASK_ID,
            "at": None,
            "offset": "-PT15M",
            "fire_at": "2030-01-02T16:45:00Z",
            "status": "pending",
            "fired_at": None,
            "cancelled_at": None,
            "cancel_reason": None,
            "created_at": "2030-01-01T09:30:00Z",
            "updated_at": "2030-01-01T09:30:00Z",
            "version": 1,
        },
        {"at": "2030-01-02T08:45:00Z", "fired_at": "2030-01-02T16:45:00Z"},
        {"cancelled_at": "2030-01-02T10:00:00Z", "cancel_reason": "task_completed"},
    )

    id: str
    """The reminder's id, a UUID chosen by the server."""
    user_id: str
    """Its owner: you."""
    task_id: str
    """The task it reminds of."""
    at: datetime | None
    """The absolute time asked for (UTC), or null for a relative reminder."""
    offset: str | None
    """The offset from the task's `due_at` asked for (canonical ISO 8601), or null."""
    fire_at: datetime | None
    """When it fires (UTC): `at`, or the task's current `due_at` + `offset`; null while the
    task has no `due_at`."""
    status: Status
    """`pending` (waiting for `fire_at`), `fired` or `cancelled`."""
    fired_at: datetime | None
    """When it fired, or null."""
    cancelled_at: datetime | None
    """When it was cancelled, or null."""
    cancel_reason: str | None
    """Why: `task_completed`; null when not cancelled."""
    created_at: datetime
    """When it was created (UTC)."""
    updated_at: datetime
    """When it last changed (UTC)."""
    version: int
    """1 when created, +1 on every change."""

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> "ReminderOut":
        values = dict(row)
        seconds = values.pop("offset_seconds")
        values["offset"] = None if seconds is None else format_offset(seconds)
        values["status"] = (
            "fired" if values["fired_at"] else "cancelled" if values["cancelled_at"] else "pending"
        )
        return cls.model_validate(values)


class InboxItemOut(BaseModel):
    """A reminder that fired."""

    model_config = documented(
        {
            "id": "5d3a3c1e-0b8e-4f55-9f0e-2f6c1d7e8a90",
            "user_id": USER_ID,
            "reminder_id": REMINDER_ID,
            "task_id": TASK_ID,
            "title": "Buy oat milk",
            "fire_at": "2030-01-02T16:45:00Z",
            "fired_at": "2030-01-02T16:45:01Z",
            "read_at": None,
            "version": 1,
        },
        {"read_at": "2030-01-02T17:00:00Z"},
    )

    id: str
    """The item's id."""
    user_id: str
    """Its owner: you."""
    reminder_id: str
    """The reminder that fired (it may have been deleted since)."""
    task_id: str
    """Its task (it may have been deleted since)."""
    title: str
    """The task's title when the reminder fired."""
    fire_at: datetime
    """When the reminder was due (UTC)."""
    fired_at: datetime
    """When it fired (UTC)."""
    read_at: datetime | None
    """When you marked it read, or null."""
    version: int
    """1 when it fired, 2 once read."""


class InboxQuery(BaseModel):
    """The inbox, newest first, a page at a time."""

    model_config = documented(
        {"limit": 50, "before": "5d3a3c1e-0b8e-4f55-9f0e-2f6c1d7e8a90"}, extra="forbid"
    )

    limit: int | None = Field(default=None, ge=1)
    """How many items, at most (default 50, at most 200)."""
    before: str | None = Field(default=None, max_length=36)
    """The `id` of the last item of the previous page: the items fired before it. The `Link`
    header's `next` carries it."""
