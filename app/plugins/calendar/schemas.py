"""Task: T-431
Spec: specs/features/calendar.md §Feeds

Request and response bodies of `/calendar/feeds`. Unknown fields are refused (422). The URL
(its secret) is only in the answer of a creation (`FeedCreated`), never in `FeedOut`.
"""

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, StringConstraints

from app.core import NO_NUL, documented

Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NO_NUL)
]
EXAMPLE: dict[str, Any] = {
    "id": "3c8e4b2a-1f0d-4e6a-9b7c-5d2e1f0a9b8c",
    "name": "Work, due",
    "list_id": "0f9c2b1a-7e6d-4c5b-8a9f-1e2d3c4b5a69",
    "include_completed": False,
    "created_at": "2030-01-02T09:00:00Z",
    "url": "https://todo.example.com/api/v1/calendar/"
    "dXNlcg.3c8e4b2a-1f0d-4e6a-9b7c-5d2e1f0a9b8c.Vq3m0k9cXy2bJfQeP6sR1tU8wZ4aLdH7nG5oI0pYxMc.ics",
}


class FeedCreate(BaseModel):
    """A new subscription: which tasks it shows."""

    model_config = documented(
        {key: EXAMPLE[key] for key in ("name", "list_id", "include_completed")}, extra="forbid"
    )

    name: Name
    """What calendar apps call it (X-WR-CALNAME), 1 to 200 characters."""
    list_id: str | None = None
    """One list's due tasks (yours, or one shared with you); null: every task you can read."""
    include_completed: bool = False
    """Whether completed tasks stay in the feed (marked completed)."""


class FeedOut(BaseModel):
    """A subscription, without its URL."""

    model_config = documented(EXAMPLE)

    id: str
    """The feed's id."""
    name: str
    """Its calendar name."""
    list_id: str | None
    """The list it shows, or null for every task you can read."""
    include_completed: bool
    """Whether completed tasks show."""
    created_at: datetime
    """When it was made."""


class FeedCreated(FeedOut):
    """A new subscription and its secret URL: shown here and never again."""

    model_config = documented(EXAMPLE)

    url: str
    """The secret `.ics` URL to subscribe to (a `webcal://` client takes it too): anyone holding
    it reads the feed, until you revoke it. It is not shown again."""
