"""Task: T-028
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

from sqlalchemy import Update, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.plugins.auth.models import RefreshToken, utcnow


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(session: AsyncSession, user_id: str, days: int, family_id: str | None = None) -> str:
    """Add a new refresh token to `session` (the caller commits) and return it."""
    token = secrets.token_urlsafe(32)
    session.add(
        RefreshToken(
            token_hash=_digest(token),
            user_id=user_id,
            family_id=family_id or uuid.uuid4().hex,
            expires_at=utcnow() + timedelta(days=days),
        )
    )
    return token


async def consume(session: AsyncSession, token: str) -> RefreshToken | None:
    """Mark `token` used and return it; None (after revoking its family on reuse) if invalid."""
    now = utcnow()
    # One UPDATE decides who uses the token, so two concurrent refreshes cannot both succeed.
    used = await session.scalar(
        update(RefreshToken)
        .where(
            RefreshToken.token_hash == _digest(token),
            RefreshToken.used_at.is_(None),
            RefreshToken.revoked_at.is_(None),
            RefreshToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(RefreshToken)
    )
    if used is not None:
        return used
    reused = await session.get(RefreshToken, _digest(token))
    if reused is not None and reused.used_at is not None:
        await revoke_family(session, reused.family_id)
    return None


def _revoke() -> Update:
    return update(RefreshToken).where(RefreshToken.revoked_at.is_(None)).values(revoked_at=utcnow())


async def revoke_family(session: AsyncSession, family_id: str) -> None:
    await session.execute(_revoke().where(RefreshToken.family_id == family_id))


async def revoke_sessions(session: AsyncSession, user_id: str, token: str | None = None) -> None:
    """End the session (family) of `token`, or every session of the user without one.

    Scoped to `user_id`: a token of somebody else is silently left alone.
    """
    statement = _revoke().where(RefreshToken.user_id == user_id)
    if token is not None:
        family = (
            select(RefreshToken.family_id)
            .where(RefreshToken.token_hash == _digest(token), RefreshToken.user_id == user_id)
            .scalar_subquery()
        )
        statement = statement.where(RefreshToken.family_id == family)
    await session.execute(statement)
