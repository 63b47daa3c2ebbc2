"""Task: T-192
Spec: specs/api/rest-endpoints.md §Webhooks

Request and response bodies of `/webhooks`. Unknown fields are refused (422). The secret is
only in the answers of a registration and of a rotation (`WebhookSecret`), never in
`WebhookOut`.
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, StringConstraints

from app.core import NO_NUL, documented

EventType = Literal[
    "*",
    "task.created",
    "task.updated",
    "task.completed",
    "task.deleted",
    "list.created",
    "list.updated",
    "list.deleted",
    "reminder.fired",
]

Url = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000, pattern=NO_NUL)
]
Description = Annotated[str, StringConstraints(max_length=500, pattern=NO_NUL)]


def _events(values: list[str]) -> list[str]:
    # `*` means every event, so with it nothing else counts; otherwise a set, in the order given.
    if not values:
        raise ValueError('name at least one event type, or ["*"] for all')
    return ["*"] if "*" in values else list(dict.fromkeys(values))


EventTypes = Annotated[list[EventType], AfterValidator(_events)]

EXAMPLE_ID = "9b1f2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d"
EXAMPLE: dict[str, Any] = {
    "id": EXAMPLE_ID,
    "url": "https://hooks.example.com/todo",
    "description": "Post to our team chat",
    "event_types": ["task.created", "task.completed"],
    "enabled": True,
    "disabled_reason": None,
    "disabled_at": None,
    "created_at": "2030-01-02T09:00:00Z",
    "updated_at": "2030-01-02T09:00:00Z",
    "version": 1,
    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
}


CREATE_EXAMPLE = {key: EXAMPLE[key] for key in ("url", "event_types", "description")}


class WebhookCreate(BaseModel):
    """A new endpoint: where to send which events."""

    model_config = documented(CREATE_EXAMPLE, extra="forbid")

    url: Url
    """Where deliveries are POSTed: an `https://` URL of a public host (`http://` only for a
    host the operator allows), at most 2000 characters."""
    event_types: EventTypes = ["*"]
    """The events to send: `["*"]` (all, the default) or names from the catalog."""
    description: Description | None = None
    """What it is for, at most 500 characters."""


class WebhookUpdate(BaseModel):
    """The fields to change; `enabled: true` re-enables a disabled endpoint."""

    model_config = documented({**CREATE_EXAMPLE, "enabled": True}, extra="forbid")

    url: Url | None = None
    """A new URL, checked like at registration."""
    event_types: EventTypes | None = None
    """The events to send."""
    description: Description | None = None
    """What it is for."""
    enabled: bool | None = None
    """`true` resumes deliveries (and clears `disabled_reason`); `false` stops them."""


class WebhookOut(BaseModel):
    """An endpoint, without its secret."""

    model_config = documented(EXAMPLE)

    id: str
    """The endpoint's id."""
    url: str
    """Where deliveries go."""
    description: str | None
    """What it is for."""
    event_types: list[str]
    """The events it receives (`["*"]`: all)."""
    enabled: bool
    """Whether deliveries are sent."""
    disabled_reason: str | None
    """Why it was disabled (by you, or after a delivery failed every attempt)."""
    disabled_at: datetime | None
    """When it was disabled."""
    created_at: datetime
    """When it was registered."""
    updated_at: datetime
    """When it last changed."""
    version: int
    """Moves on every change."""


class WebhookCreated(WebhookOut):
    """A new endpoint and its signing secret: shown here and never again."""

    model_config = documented(EXAMPLE)

    secret: str
    """The Standard Webhooks signing secret (`whsec_…`): keep it, it is not shown again."""


class WebhookSecret(BaseModel):
    """An endpoint's new signing secret, shown once."""

    model_config = documented({key: EXAMPLE[key] for key in ("id", "secret")})

    id: str
    """The endpoint's id."""
    secret: str
    """The new signing secret; the old one signs nothing from now on."""


DELIVERY_EXAMPLE: dict[str, Any] = {
    "id": "msg_2b7c0a5f3e8d4c1b9a6f0e2d7c4b1a39",
    "endpoint_id": EXAMPLE_ID,
    "event_type": "task.completed",
    "payload": {
        "type": "task.completed",
        "timestamp": "2030-01-02T09:30:00Z",
        "data": {"id": "3f2b8c1e-7d4a-4e1b-9a65-0c2d5e8f1a47", "task": {"title": "Buy oat milk"}},
    },
    "status": "succeeded",
    "attempts": 1,
    "next_attempt_at": None,
    "last_attempt_at": "2030-01-02T09:30:01Z",
    "last_status_code": 200,
    "last_error": None,
    "created_at": "2030-01-02T09:30:00Z",
    "delivered_at": "2030-01-02T09:30:01Z",
}


class DeliveryOut(BaseModel):
    """One message to one endpoint and how its attempts went."""

    model_config = documented(DELIVERY_EXAMPLE)

    id: str
    """The message id (`webhook-id`), the same for every attempt."""
    endpoint_id: str
    """The endpoint it goes to."""
    event_type: str
    """The event."""
    payload: dict[str, Any]
    """The JSON body sent."""
    status: Literal["pending", "succeeded", "failed"]
    """`pending` (an attempt is due), `succeeded` (a 2xx answer) or `failed` (gave up)."""
    attempts: int
    """Attempts made so far."""
    next_attempt_at: datetime | None
    """When the next attempt is due, while pending."""
    last_attempt_at: datetime | None
    """When the last attempt was made."""
    last_status_code: int | None
    """The HTTP status of the last answer (none if there was no answer)."""
    last_error: str | None
    """Why the last attempt failed."""
    created_at: datetime
    """When the event happened."""
    delivered_at: datetime | None
    """When a 2xx answer came."""
