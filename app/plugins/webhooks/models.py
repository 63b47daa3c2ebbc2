"""Task: T-190
Spec: specs/features/webhooks.md §Tables

The `webhook_endpoints` and `webhook_deliveries` tables, both user-owned (`Owned`): every
statement on them is scoped to one user by the kernel. Neither is in the change feed: an
endpoint row holds its signing secret, which the change log would otherwise copy (`to_jsonb`),
and deliveries are the plugin's bookkeeping, not the user's data.
"""

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    SmallInteger,
    Text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field

from app.core import Owned, new_id, utcnow

NOT_IN_FEED: dict[str, Any] = {"info": {"change_feed": False}}


class WebhookEndpoint(Owned, table=True):
    __tablename__ = "webhook_endpoints"
    __table_args__: ClassVar[dict[str, Any]] = NOT_IN_FEED

    id: str = Field(default_factory=new_id, primary_key=True)
    url: str = Field(sa_column=Column(Text, nullable=False))
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # `["*"]` (every event of the catalog, present and future) or names from the catalog.
    event_types: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    # Standard Webhooks `whsec_…`: needed to sign, so stored; only ever read by the delivery job.
    secret: str = Field(sa_column=Column(Text, nullable=False))
    enabled: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    disabled_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    disabled_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))


class WebhookDelivery(Owned, table=True):
    __tablename__ = "webhook_deliveries"
    __table_args__: ClassVar[dict[str, Any]] = NOT_IN_FEED

    # The Standard Webhooks message id (`msg_…`): the same for every attempt.
    id: str = Field(primary_key=True)
    endpoint_id: str = Field(
        sa_column=Column(
            Text, ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), nullable=False
        )
    )
    event_type: str = Field(sa_column=Column(Text, nullable=False))
    payload: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    status: str = Field(default="pending", sa_column=Column(Text, nullable=False))
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    # False after a manual redelivery of a finished delivery: one attempt, no schedule.
    auto_retry: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    next_attempt_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    last_attempt_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    last_status_code: int | None = Field(
        default=None, sa_column=Column(SmallInteger, nullable=True)
    )
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # The job making the current attempt (claimed, outcome not yet recorded); internal.
    job_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    delivered_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class EndpointSlots(Owned, table=True):
    """How many endpoints a user has: the counter a registration takes a slot of under the
    limit (`app.core.take_slot`), so the limit holds however many race."""

    __tablename__ = "webhook_slots"
    __table_args__: ClassVar[dict[str, Any]] = NOT_IN_FEED

    # One row per user: the owner is the key.
    user_id: str = Field(default=None, primary_key=True)
    used: int = Field(sa_column=Column(Integer, nullable=False))
