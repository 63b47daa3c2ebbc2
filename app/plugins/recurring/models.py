"""Task: T-170
Spec: specs/features/recurring.md §Data

The `recurrences` table: the rule a task recurs by, one row per occurrence of a series. It is
user-owned (`Owned`): every statement on it is scoped to the caller by the kernel, and the
change feed tracks it.
"""

from datetime import datetime

from sqlalchemy import Column, DateTime, Integer, Text
from sqlmodel import Field

from app.core import Owned, utcnow


class Recurrence(Owned, table=True):
    __tablename__ = "recurrences"

    # The occurrence (a task) this row belongs to; the row goes with it (ON DELETE CASCADE).
    task_id: str = Field(primary_key=True)
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
