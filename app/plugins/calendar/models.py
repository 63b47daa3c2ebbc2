"""Task: T-430
Spec: specs/features/calendar.md §Data

The `calendar_feeds` table: a user's iCalendar subscriptions, each reached by a secret URL
stored only as its SHA-256; and `calendar_slots`, how many feeds a user has (the counter the
limit takes a slot of). Both user-owned (`Owned`): every statement is scoped by the kernel.
"""

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import Boolean, Column, DateTime, Integer, Text
from sqlmodel import Field

from app.core import Owned, new_id, utcnow

# Bookkeeping of the user's own, not task data: not in the change feed.
NOT_IN_FEED: dict[str, Any] = {"info": {"change_feed": False}}


class CalendarFeed(Owned, table=True):
    __tablename__ = "calendar_feeds"
    __table_args__: ClassVar[dict[str, Any]] = NOT_IN_FEED

    id: str = Field(default_factory=new_id, primary_key=True)
    name: str = Field(sa_column=Column(Text, nullable=False))
    # The one list the feed shows (one the owner could read when the feed was made; a member
    # who leaves it sees its tasks no more), or null: every task the owner can read.
    list_id: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    include_completed: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    # SHA-256 of the URL's secret: shown once, never stored.
    token_hash: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class FeedSlots(Owned, table=True):
    """How many feeds a user has: a creation takes a slot (`app.core.take_slot`), so the limit
    holds however many race; a revocation gives one back."""

    __tablename__ = "calendar_slots"
    __table_args__: ClassVar[dict[str, Any]] = NOT_IN_FEED

    user_id: str = Field(default=None, primary_key=True)
    used: int = Field(sa_column=Column(Integer, nullable=False))
