"""Task: T-034, T-107
Spec: specs/api/rest-endpoints.md §Tasks

Request and response bodies. Requests never carry `id`, `user_id`, timestamps or `version`;
unknown fields are rejected (422). Datetimes must carry a timezone.
"""

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from app.core import NO_NUL
from app.plugins.tasks.models import Priority, Task

Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NO_NUL)
]
Description = Annotated[str, StringConstraints(max_length=1000, pattern=NO_NUL)]
Tag = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50, pattern=NO_NUL)
]


def _distinct(tags: list[str]) -> list[str]:
    # Duplicates are dropped, first occurrence kept: tags are a set with a stable order.
    return list(dict.fromkeys(tags))


def to_utc(value: datetime) -> datetime:
    """`value` in UTC; a ValueError (a 422 naming the field) when UTC cannot hold it, as
    `0001-01-01T00:00:00+14:00`, which would otherwise overflow into a 500."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("datetime out of range once converted to UTC") from None


# Naive datetimes are refused; aware ones are stored and answered in UTC.
UtcDatetime = Annotated[AwareDatetime, AfterValidator(to_utc)]
Tags = Annotated[list[Tag], Field(max_length=20), AfterValidator(_distinct)]


class TaskCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    description: Description | None = None
    completed: bool = False
    priority: Priority = Priority.none
    due_at: UtcDatetime | None = None
    tags: Tags = []


class TaskUpdate(BaseModel):
    """Only the fields sent change. `title`, `completed`, `priority` and `tags` may be omitted
    but not null (their defaults are not validated, so an explicit null is a 422)."""

    model_config = ConfigDict(extra="forbid")

    title: Title = None  # type: ignore[assignment]
    description: Description | None = None
    completed: bool = None  # type: ignore[assignment]
    priority: Priority = None  # type: ignore[assignment]
    due_at: UtcDatetime | None = None
    tags: Tags = None  # type: ignore[assignment]


class TaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    user_id: str
    title: str
    description: str | None
    completed: bool
    completed_at: datetime | None
    priority: Priority
    due_at: datetime | None
    tags: list[str]
    created_at: datetime
    updated_at: datetime
    version: int


# What a response shows of a task, in `TaskOut`'s order: the columns every statement returns.
COLUMNS = tuple(Task.__table__.c[name] for name in TaskOut.model_fields)  # type: ignore[attr-defined]
