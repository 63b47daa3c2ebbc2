"""Task: T-021, T-101, T-382, T-401
Spec: specs/database/schema.md §auth plugin

The auth plugin's tables: users, refresh tokens, login-attempt counters, one-time account
tokens (password reset, email verification), personal access tokens.
"""

from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, ForeignKey, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def _timestamp(nullable: bool = False) -> Column[datetime]:
    return Column(DateTime(timezone=True), nullable=nullable)


class User(SQLModel, table=True):
    __tablename__ = "users"

    # Text: Better Auth ids are random strings; local ids are uuid4 strings.
    id: str = Field(sa_column=Column(Text, primary_key=True))
    # Who vouches for this user: this API's issuer, or Better Auth's. A token from one issuer
    # never authenticates a user of another.
    issuer: str
    email: str | None = None
    name: str | None = None
    password_hash: str | None = None
    # When the current email was confirmed by a link sent to it (auth_0003); None: unverified.
    email_verified_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_timestamp())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_timestamp())


class RefreshToken(SQLModel, table=True):
    __tablename__ = "refresh_tokens"

    # sha256 of the opaque token: a leaked table row cannot be replayed.
    token_hash: str = Field(primary_key=True)
    user_id: str = Field(foreign_key="users.id", index=True)
    # Every rotation of one login shares a family; reuse of a used token revokes the family.
    family_id: str = Field(index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_timestamp())
    expires_at: datetime = Field(sa_column=_timestamp())
    used_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    # The client that got it (migration auth_0004): what the session list shows.
    user_agent: str | None = None
    address: str | None = None


class LoginFailure(SQLModel, table=True):
    """One throttling counter (migration auth_0002; see throttle.py)."""

    __tablename__ = "login_failures"

    # "email:<address>" (the account) or "email:<address>;ip:<client>" (account and address)
    key: str = Field(sa_column=Column(Text, primary_key=True))
    # Attempts counted since the counter started (or since its last lockout, less one).
    attempts: int
    # Lockouts so far: the next one lasts `lockout_seconds` doubled this many times.
    lockouts: int
    blocked_until: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    # Forgotten after this: a window after the last counted attempt or the end of a lockout.
    expires_at: datetime = Field(sa_column=_timestamp())


class AccountToken(SQLModel, table=True):
    """A one-time token mailed for a password reset or an email verification (auth_0003; see
    account_tokens.py)."""

    __tablename__ = "account_tokens"

    # sha256 of the token: the plaintext exists only in the message sent.
    token_hash: str = Field(sa_column=Column(Text, primary_key=True))
    user_id: str = Field(foreign_key="users.id", index=True)
    purpose: str  # "reset" or "verify"
    # What the token is bound to, as it was when issued: a digest of the password hash and the
    # email (reset), the email (verify). The token dies when it no longer matches.
    binding: str
    created_at: datetime = Field(default_factory=utcnow, sa_column=_timestamp())
    expires_at: datetime = Field(sa_column=_timestamp())
    used_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))


class PersonalToken(SQLModel, table=True):
    """A personal access token (migration auth_0005; see personal.py): a script's credential,
    limited to its scopes. Deleted with its user; deleting the row is how it is revoked."""

    __tablename__ = "personal_tokens"

    id: str = Field(sa_column=Column(Text, primary_key=True))
    user_id: str = Field(
        sa_column=Column(
            Text, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    name: str
    # sha256 of the token (high-entropy, so a slow hash adds nothing): shown once, never stored.
    token_hash: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    scopes: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_timestamp())
    expires_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    last_used_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
