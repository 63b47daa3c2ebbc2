"""Task: T-130, T-215
Spec: specs/database/schema.md §changes plugin

The change log (`changes`, user-owned, so a user's feed is read through the kernel's scoping),
the purge horizon, the after-commit consumers' cursors and the changes they set aside, and the
open streams' leases.
"""

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import BigInteger, Boolean, Column, DateTime, Integer, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from app.core import Owned


class ChangeEntry(Owned, table=True):
    """One write to a tracked table, recorded by the `changes_record()` trigger."""

    __tablename__ = "changes"
    # The log is Owned (each user reads only their own) but not itself recorded.
    __table_args__: ClassVar[dict[str, Any]] = {"info": {"change_feed": False}}

    # The writing transaction (pg_current_xact_id()) and the order within it: the feed's order.
    xid: int = Field(sa_column=Column(BigInteger, primary_key=True))
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True))
    entity: str = Field(sa_column=Column(Text, nullable=False))
    entity_id: str = Field(sa_column=Column(Text, nullable=False))
    op: str = Field(sa_column=Column(Text, nullable=False))
    version: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    data: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class Horizon(SQLModel, table=True):
    """The greatest position the purge deleted: a cursor before it may have missed changes."""

    __tablename__ = "changes_horizon"

    id: bool = Field(default=True, primary_key=True)
    xid: int = Field(sa_column=Column(BigInteger, nullable=False))
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))


class ConsumerCursor(SQLModel, table=True):
    """Where an after-commit consumer is in the log, committed with its work."""

    __tablename__ = "change_consumers"

    name: str = Field(primary_key=True)
    xid: int = Field(sa_column=Column(BigInteger, nullable=False))
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    # Failed tries at this position; while the cursor is before the end of the last batch that
    # failed (`isolate_*`), the consumer reads one change at a time (plugins.md §Events).
    failures: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    isolate_xid: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    isolate_seq: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class SetAside(SQLModel, table=True):
    """A change a consumer failed on `attempts` times in a row, moved past and kept here: what
    the change names (its data stays in the log), and the error's type and message."""

    __tablename__ = "change_set_aside"

    id: int = Field(sa_column=Column(BigInteger, primary_key=True))
    consumer: str = Field(sa_column=Column(Text, nullable=False))
    xid: int = Field(sa_column=Column(BigInteger, nullable=False))
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    user_id: str = Field(sa_column=Column(Text, nullable=False))
    entity: str = Field(sa_column=Column(Text, nullable=False))
    entity_id: str = Field(sa_column=Column(Text, nullable=False))
    op: str = Field(sa_column=Column(Text, nullable=False))
    attempts: int = Field(sa_column=Column(Integer, nullable=False))
    error_type: str = Field(sa_column=Column(Text, nullable=False))
    error: str = Field(sa_column=Column(Text, nullable=False))
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    retry: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))


class StreamLeases(Owned, table=True):
    """A user's open change streams, on every instance: `{stream id: expiry (epoch
    seconds)}`. One row per user, so opening a stream under the limit is one upsert that
    re-checks the row's latest version under its lock (`leases.py`)."""

    __tablename__ = "stream_leases"
    __table_args__: ClassVar[dict[str, Any]] = {"info": {"change_feed": False}}

    user_id: str = Field(default=None, primary_key=True)
    leases: dict[str, float] = Field(sa_column=Column(JSONB, nullable=False))
