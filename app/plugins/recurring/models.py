"""Task: T-170, T-370
Spec: specs/features/recurring.md §Data, §Shared lists

The `recurrences` table: the rule a task recurs by, one row per occurrence of a series. It is
user-owned (`Owned`) and reached like its task (`Shared` through the list's membership): every
statement on it is scoped to the caller by the kernel, and the change feed tracks it.
"""

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import Column, DateTime, Integer, Text
from sqlmodel import Field

from app.core import Owned, utcnow
from app.plugins.tasks.api import LIST_MEMBERS, Role, Shared


class Recurrence(Owned, table=True):
    __tablename__ = "recurrences"
    # As its task: a list's viewers read it, its editors set and remove it.
    __table_args__: ClassVar[dict[str, Any]] = {
        "info": {
            "access": Shared(LIST_MEMBERS, column="list_id", read=Role.viewer, write=Role.editor)
        }
    }

    # The occurrence (a task) this row belongs to; the row goes with it, and follows it to
    # another list or owner: `(task_id, list_id, user_id)` references the task's (ON DELETE
    # CASCADE ON UPDATE CASCADE, recurring_0002).
    task_id: str = Field(primary_key=True)
    # The task's list (every insert takes it from the task): whose members reach the row.
    list_id: str = Field(sa_column=Column(Text, nullable=False))
    # Shared by every occurrence of one series.
    series_id: str = Field(sa_column=Column(Text, nullable=False))
    # The RRULE, normalised, without DTSTART (the task's due_at is the start).
    rule: str = Field(sa_column=Column(Text, nullable=False))
    timezone: str = Field(sa_column=Column(Text, nullable=False))
    # The next occurrence, once made (its task may have been deleted since): made only once.
    successor_id: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))
