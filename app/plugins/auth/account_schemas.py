"""Task: T-390, T-392
Spec: specs/api/rest-endpoints.md §Auth

Bodies of the session list and of account deletion.
"""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from app.core import NO_NUL, documented
from app.plugins.auth.schemas import EXAMPLE_PASSWORD, Strict


class SessionOut(BaseModel):
    """A session: one login and the refreshes that kept it going."""

    model_config = documented(
        {
            "id": "5f0c3a1e9b2d4c7e8a6f1b3d5e7c9a20",
            "created_at": "2030-01-01T09:00:00Z",
            "last_used_at": "2030-01-02T17:30:00Z",
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
            "address": "203.0.113.7",
            "current": True,
        },
        from_attributes=True,
    )

    id: str
    """The session's id: end it with `DELETE /auth/sessions/{id}`."""
    created_at: datetime
    """When it began: the login (UTC)."""
    last_used_at: datetime
    """Its last login or refresh (UTC)."""
    user_agent: str | None
    """The `User-Agent` of its last login or refresh, if it sent one."""
    address: str | None
    """The client address of its last login or refresh, as the trusted proxies give it."""
    current: bool
    """`true` for the session of the access token presented."""


class Deletion(Strict):
    """What deleting an account needs: the password of a local account (a Better Auth account
    sends no body, but a token issued in the last 5 minutes)."""

    model_config = documented({"password": EXAMPLE_PASSWORD})

    password: Annotated[str, Field(max_length=1024, pattern=NO_NUL)] | None = None
    """The account's password (local accounts)."""
