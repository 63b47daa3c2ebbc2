"""Task: T-028, T-157
Spec: specs/features/authentication.md §Refresh tokens

Opaque refresh tokens: random, stored only as a sha256 (they are high-entropy, so a slow hash
adds nothing), single-use and rotated. Each login starts a family; using a token marks it used
and issues the next in the same family. Presenting a token that was already used means it was
stolen or replayed, so the whole family is revoked.
"""

import hashlib
import secrets
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import DateTime, bindparam, insert, select, update

from app.core import Database, Executor
from app.plugins.auth.models import RefreshToken, utcnow

NOW = bindparam("now", type_=DateTime(timezone=True))
_ISSUE = insert(RefreshToken).values(
    token_hash=bindparam("token_hash"),
    user_id=bindparam("user_id"),
    family_id=bindparam("family_id"),
    created_at=NOW,
    expires_at=bindparam("expires_at", type_=DateTime(timezone=True)),
)
# One UPDATE decides who uses the token, so two concurrent refreshes cannot both succeed.
_CONSUME = (
    update(RefreshToken)
    .where(
        RefreshToken.token_hash == bindparam("token_hash"),
        RefreshToken.used_at.is_(None),
        RefreshToken.revoked_at.is_(None),
        RefreshToken.expires_at > NOW,
    )
    .values(used_at=NOW)
    .returning(RefreshToken.user_id, RefreshToken.family_id)
)
_FAMILY_IF_USED = select(RefreshToken.family_id).where(
    RefreshToken.token_hash == bindparam("token_hash"), RefreshToken.used_at.is_not(None)
)
_REVOKE = update(RefreshToken).where(RefreshToken.revoked_at.is_(None)).values(revoked_at=NOW)
_REVOKE_FAMILY = _REVOKE.where(RefreshToken.family_id == bindparam("family_id"))
_REVOKE_ALL = _REVOKE.where(RefreshToken.user_id == bindparam("user_id"))
_REVOKE_USERS_FAMILY = _REVOKE_ALL.where(RefreshToken.family_id == bindparam("family_id"))
_REVOKE_SESSION = _REVOKE_ALL.where(
    RefreshToken.family_id
    == select(RefreshToken.family_id)
    .where(
        RefreshToken.token_hash == bindparam("token_hash"),
        RefreshToken.user_id == bindparam("user_id"),
    )
    .scalar_subquery()
)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_family() -> str:
    """The id of a new session: the family of the tokens one login leads to."""
    return uuid.uuid4().hex


async def issue(db: Executor, user_id: str, days: int, family_id: str) -> str:
    """Store a new refresh token of session `family_id` and return it."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    await db.execute(
        _ISSUE,
        token_hash=_digest(token),
        user_id=user_id,
        family_id=family_id,
        now=now,
        expires_at=now + timedelta(days=days),
    )
    return token


async def consume(db: Executor, token: str) -> Any:
    """Mark `token` used and return its (user_id, family_id); None (after revoking its family
    on reuse) if invalid."""
    digest = _digest(token)
    # Not retried: applied twice, the second attempt would see the token used and revoke it.
    used = await db.fetchrow(_CONSUME, token_hash=digest, now=utcnow(), retry=False)
    if used is not None:
        return used
    family = await db.fetchval(_FAMILY_IF_USED, token_hash=digest)
    if family is not None:
        await db.execute(_REVOKE_FAMILY, family_id=family, now=utcnow())
    return None


async def revoke_sessions(db: Database, user_id: str, token: str | None = None) -> None:
    """End the session (family) of `token`, or every session of the user without one.

    Scoped to `user_id`: a token of somebody else is silently left alone.
    """
    if token is None:
        await db.execute(_REVOKE_ALL, user_id=user_id, now=utcnow())
    else:
        await db.execute(_REVOKE_SESSION, user_id=user_id, token_hash=_digest(token), now=utcnow())


async def end_session(db: Database, user_id: str, family_id: str) -> None:
    """Revoke session `family_id` of the user (an access token's `sid`)."""
    await db.execute(_REVOKE_USERS_FAMILY, user_id=user_id, family_id=family_id, now=utcnow())
