"""Task: T-180, T-366
Spec: specs/features/reminders.md §Tables

The `reminders` table (a task's reminders) and `reminders_inbox` (the reminders that fired: the
built-in delivery channel), both user-owned (`Owned`), so every statement on them is scoped to
one user by the kernel, and both tracked by the change feed.
"""

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import Column, DateTime, Integer, Text
from sqlmodel import Field

from app.core import Owned, new_id, utcnow


def _timestamp(nullable: bool = True) -> Column:  # type: ignore[type-arg]
    return Column(DateTime(timezone=True), nullable=nullable)


class Reminder(Owned, table=True):
    __tablename__ = "reminders"

    id: str = Field(default_factory=new_id, primary_key=True)
    # References tasks.id ON DELETE CASCADE (the migration): a deleted task's reminders go.
    task_id: str = Field(sa_column=Column(Text, nullable=False))
    # Exactly one of `at` (absolute) and `offset_seconds` (relative to the task's due_at).
    at: datetime | None = Field(default=None, sa_column=_timestamp())
    offset_seconds: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    # When it fires: `at`, or the task's due_at + offset (null while the task has no due_at).
    fire_at: datetime | None = Field(default=None, sa_column=_timestamp())
    fired_at: datetime | None = Field(default=None, sa_column=_timestamp())
    cancelled_at: datetime | None = Field(default=None, sa_column=_timestamp())
    cancel_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_timestamp(False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_timestamp(False))
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))


class InboxItem(Owned, table=True):
    """A reminder that fired, as the user's inbox shows it. The task's title is a snapshot: the
    item stays when the task or the reminder is deleted (no foreign keys to them)."""

    __tablename__ = "reminders_inbox"

    id: str = Field(default_factory=new_id, primary_key=True)
    reminder_id: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    task_id: str = Field(sa_column=Column(Text, nullable=False))
    title: str = Field(sa_column=Column(Text, nullable=False))
    fire_at: datetime = Field(sa_column=_timestamp(False))
    fired_at: datetime = Field(sa_column=_timestamp(False))
    read_at: datetime | None = Field(default=None, sa_column=_timestamp())
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))


class TaskSlots(Owned, table=True):
    """How many reminders of its setter's a task carries: the counter its creates take a slot of under the
    limit (`app.core.take_slot`), so the limit holds however many race. Bookkeeping, not the
    user's data: out of the change feed."""

    __tablename__ = "reminder_slots"
    __table_args__: ClassVar[dict[str, Any]] = {"info": {"change_feed": False}}

    # References tasks.id ON DELETE CASCADE (the migration): the counter goes with its task.
    task_id: str = Field(sa_column=Column(Text, primary_key=True))
    # One counter per task and setter: on a shared list each member's reminders are their own.
    user_id: str = Field(sa_column=Column(Text, primary_key=True))
    used: int = Field(sa_column=Column(Integer, nullable=False))
