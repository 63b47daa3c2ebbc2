"""Task: T-403
Spec: specs/api/rest-endpoints.md §Auth; specs/features/authentication.md §Personal access tokens

Request and response bodies of `/api/v1/auth/tokens`.
"""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, field_validator

from app.core import NO_NUL, Instant, documented, utcnow
from app.plugins.auth.schemas import Strict

SCOPE = r"^[a-z0-9_-]{1,50}:[a-z0-9_-]{1,50}$"
EXAMPLE_ID = "3f2b8c1e-7d4a-4e1b-9a65-0c2d5e8f1a47"
EXAMPLE = {
    "id": EXAMPLE_ID,
    "name": "nightly backup",
    "scopes": ["tasks:read"],
    "created_at": "2030-01-01T09:00:00Z",
    "expires_at": "2030-04-01T00:00:00Z",
    "last_used_at": "2030-01-02T03:00:00Z",
}


class TokenRequest(Strict):
    """A new personal access token: what it is for, what it may do, and until when."""

    model_config = documented(
        {"name": "nightly backup", "scopes": ["tasks:read"], "expires_at": "2030-04-01T00:00:00Z"}
    )

    name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=NO_NUL)
    ]
    """What the token is for, to recognise it in the list: 1 to 100 characters, trimmed."""
    scopes: Annotated[
        list[Annotated[str, StringConstraints(pattern=SCOPE)]], Field(min_length=1, max_length=100)
    ]
    """What it may do: 1 to 100 scopes of this API (`<plugin>:read`, `<plugin>:write`, or a
    plugin's own), as the security scheme of the OpenAPI document lists them. Never the
    account's own routes (`auth:account`)."""
    expires_at: Instant | None = None
    """When it stops working (in the future, with a time zone); never, if absent."""

    @field_validator("scopes")
    @classmethod
    def _distinct(cls, scopes: list[str]) -> list[str]:
        return sorted(set(scopes))

    @field_validator("expires_at")
    @classmethod
    def _future(cls, expires_at: datetime | None) -> datetime | None:
        if expires_at is not None and expires_at <= utcnow():
            raise ValueError("must be in the future")
        return expires_at


class TokenOut(BaseModel):
    """A personal access token, without its secret (shown only when created)."""

    model_config = documented(EXAMPLE)

    id: str
    """The token's id: what `DELETE /auth/tokens/{token_id}` takes."""
    name: str
    """What it is for."""
    scopes: list[str]
    """What it may do."""
    created_at: datetime
    """When it was created (UTC)."""
    expires_at: datetime | None
    """When it stops working; null: never."""
    last_used_at: datetime | None
    """When it was last used (to within a few seconds); null: never."""


class CreatedToken(TokenOut):
    """A new personal access token, with its secret: shown this once, never again."""

    model_config = documented(EXAMPLE | {"token": "tdp_q9Jz1mX4c2Vb7Nn0LkPp3Rr5Tt8Ww6Yy1Aa2Ss4Dd7"})

    token: str
    """Send it as `Authorization: Bearer <token>`. Only its hash is kept: store it now."""
