"""Task: T-027
Spec: specs/features/authentication.md §Throttling

Failed-login throttling, counted in PostgreSQL so the limit holds across instances.

Each failed login records a row for the email and one for the client address. When either key
has `max_failed_logins` rows inside the window, logins for it are refused with 429 until the
oldest of those rows leaves the window (`Retry-After`). A successful login clears its email's
count; rows older than the window are deleted as new ones arrive.
"""

from datetime import timedelta
from math import ceil

from fastapi import HTTPException, status
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.plugins.auth.models import LoginFailure, utcnow
from app.plugins.auth.settings import AuthSettings


def keys(email: str, client: str | None) -> list[str]:
    return [f"email:{email.strip().lower()}", *([f"ip:{client}"] if client else [])]


async def check(session: AsyncSession, config: AuthSettings, keys: list[str]) -> None:
    """Raise 429 with `Retry-After` when any key has used up its failed attempts."""
    window = timedelta(seconds=config.failed_login_window_seconds)
    now = utcnow()
    rows = await session.execute(
        select(LoginFailure.key, func.count(), func.min(LoginFailure.at))
        .where(LoginFailure.key.in_(keys), LoginFailure.at > now - window)
        .group_by(LoginFailure.key)
    )
    for _, count, oldest in rows:
        if count >= config.max_failed_logins:
            retry_after = max(1, ceil((oldest + window - now).total_seconds()))
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                "Too many failed logins; try again later",
                headers={"Retry-After": str(retry_after)},
            )


async def record_failure(session: AsyncSession, config: AuthSettings, keys: list[str]) -> None:
    cutoff = utcnow() - timedelta(seconds=config.failed_login_window_seconds)
    await session.execute(
        delete(LoginFailure).where(LoginFailure.key.in_(keys), LoginFailure.at <= cutoff)
    )
    session.add_all(LoginFailure(key=key) for key in keys)
    await session.commit()


async def clear(session: AsyncSession, keys: list[str]) -> None:
    await session.execute(delete(LoginFailure).where(LoginFailure.key.in_(keys)))
