"""Task: T-029, T-106, T-151, T-383, T-384, T-387
Spec: specs/api/rest-endpoints.md §Auth

Request and response bodies of `/api/v1/auth`.
"""

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from app.core import NO_NUL, documented

# Deliberately loose: the only real check of an address is a mail delivered to it.
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _email(value: str) -> str:
    if not EMAIL.match(value):
        raise ValueError("not a valid email address")
    return value


# Every string here may reach PostgreSQL (a password only hashed, but one rule for all): no NUL.
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254, pattern=NO_NUL),
    AfterValidator(_email),
    # Documented as an email, so that clients and generated tests send one.
    Field(json_schema_extra={"format": "email"}),
]
Password = Annotated[str, Field(min_length=8, max_length=128, pattern=NO_NUL)]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=NO_NUL)
]
# A mailed one-time token: 43 characters; longer ones are not ours.
OneTimeToken = Annotated[str, Field(min_length=1, max_length=256, pattern=NO_NUL)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


EXAMPLE_EMAIL = "ada@example.com"
EXAMPLE_PASSWORD = "correct horse battery staple"
EXAMPLE_REFRESH_TOKEN = "q9Jz1mX4c2Vb7Nn0LkPp3Rr5Tt8Ww6Yy1Aa2Ss4Dd7"


class Registration(Strict):
    """A new local account."""

    model_config = documented(
        {"email": EXAMPLE_EMAIL, "password": EXAMPLE_PASSWORD, "name": "Ada Lovelace"}
    )

    email: Email
    """The address to log in with: trimmed, at most 254 characters, unique ignoring case."""
    password: Password
    """8 to 128 characters; never stored, logged or echoed."""
    name: Name | None = None
    """How to address you: 1 to 100 characters, trimmed (optional)."""


class Credentials(Strict):
    """An email and password to log in with."""

    model_config = documented({"email": EXAMPLE_EMAIL, "password": EXAMPLE_PASSWORD})

    email: Email
    """The account's email, in any case."""
    # Not length-checked: a wrong password of any length is a 401, like any other.
    password: Annotated[str, Field(max_length=1024, pattern=NO_NUL)]
    """The account's password."""


class RefreshRequest(Strict):
    """A refresh token to trade for a new token pair."""

    model_config = documented({"refresh_token": EXAMPLE_REFRESH_TOKEN})

    refresh_token: Annotated[str, Field(min_length=1, max_length=256)]
    """The latest refresh token of the session; each one is used once."""


class LogoutRequest(Strict):
    """Which sessions to end; with no body, the session of the access token presented."""

    model_config = documented({"all": True}, {"refresh_token": EXAMPLE_REFRESH_TOKEN})

    refresh_token: Annotated[str, Field(min_length=1, max_length=256)] | None = None
    """End the session of this refresh token (one of yours)."""
    all: bool = False
    """`true`: end every session of yours."""


class PasswordResetRequest(Strict):
    """The email of the account whose password is forgotten."""

    model_config = documented({"email": EXAMPLE_EMAIL})

    email: Email
    """The account's email, in any case."""


EXAMPLE_ONE_TIME_TOKEN = "Hk3v9QwZ0bN7xL2mR5tY8uI1oP4aS6dF9gJ2kL5zX8c"


class PasswordReset(Strict):
    """A mailed reset token and the new password."""

    model_config = documented({"token": EXAMPLE_ONE_TIME_TOKEN, "password": EXAMPLE_PASSWORD})

    token: OneTimeToken
    """The token of the reset link; it works once, for 30 minutes."""
    password: Password
    """The new password: 8 to 128 characters."""


class EmailConfirmation(Strict):
    """A mailed verification token."""

    model_config = documented({"token": EXAMPLE_ONE_TIME_TOKEN})

    token: OneTimeToken
    """The token of the verification link; it works once, for 24 hours."""


class PasswordChange(Strict):
    """The current password and the new one."""

    model_config = documented(
        {"current_password": EXAMPLE_PASSWORD, "new_password": "another long passphrase"}
    )

    # Not length-checked: a wrong password of any length is refused alike.
    current_password: Annotated[str, Field(max_length=1024, pattern=NO_NUL)]
    """The password the account has now."""
    new_password: Password
    """8 to 128 characters."""


class AccountUpdate(Strict):
    """The fields of the account to change; those left out stay as they are."""

    model_config = documented({"name": "Ada King"}, {"email": "ada@lovelace.example"})

    name: Name | None = None
    """How to address you; `null` removes it."""
    email: Email | None = None
    """A new email: unverified until the link mailed to it is opened; the old address is told."""


class TokenPair(BaseModel):
    """Tokens for a session: send the access token, renew it with the refresh token."""

    model_config = documented(
        {
            "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI5YjFkIn0.c2lnbmF0dXJl",
            "token_type": "bearer",
            "expires_in": 3600,
            "refresh_token": EXAMPLE_REFRESH_TOKEN,
        }
    )

    access_token: str
    """A JWT to send as `Authorization: Bearer <access_token>`."""
    token_type: Literal["bearer"] = "bearer"
    """Always `bearer`."""
    expires_in: int
    """Seconds until the access token expires."""
    refresh_token: str
    """Single-use: trade it at `/auth/refresh` for the next pair."""


class UserOut(BaseModel):
    """An account."""

    model_config = documented(
        {
            "id": "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d",
            "email": EXAMPLE_EMAIL,
            "name": "Ada Lovelace",
            "email_verified": True,
            "created_at": "2030-01-01T09:00:00Z",
        },
        from_attributes=True,
    )

    id: str
    """The user's id (a UUID for local accounts, Better Auth's id otherwise)."""
    email: str | None
    """The email, if known."""
    name: str | None
    """The name, if given."""
    email_verified: bool
    """Whether the email was confirmed by a link sent to it (always `false` for Better Auth
    accounts: Better Auth keeps its own)."""
    created_at: datetime
    """When the account was created here (UTC)."""
