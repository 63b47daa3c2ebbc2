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
from sqlalchemy import ARRAY, DateTime, Text, any_, bindparam, delete, func, insert, select

from app.core import Database
from app.plugins.auth.models import LoginFailure, utcnow
from app.plugins.auth.settings import AuthSettings

KEYS = bindparam("keys", type_=ARRAY(Text))
SINCE = bindparam("since", type_=DateTime(timezone=True))
_COUNTS = (
    select(LoginFailure.key, func.count(), func.min(LoginFailure.at))
    .where(LoginFailure.key == any_(KEYS), LoginFailure.at > SINCE)
    .group_by(LoginFailure.key)
)
_FORGET_OLD = delete(LoginFailure).where(LoginFailure.key == any_(KEYS), LoginFailure.at <= SINCE)
_RECORD = insert(LoginFailure).from_select(["key"], select(func.unnest(KEYS)))
_CLEAR = delete(LoginFailure).where(LoginFailure.key == any_(KEYS))


def keys(email: str, client: str | None) -> list[str]:
    return [f"email:{email.strip().lower()}", *([f"ip:{client}"] if client else [])]


async def check(db: Database, config: AuthSettings, keys: list[str]) -> None:
    """Raise 429 with `Retry-After` when any key has used up its failed attempts."""
    window = timedelta(seconds=config.failed_login_window_seconds)
    now = utcnow()
    for _, count, oldest in await db.fetch(_COUNTS, keys=keys, since=now - window):
        if count >= config.max_failed_logins:
            retry_after = max(1, ceil((oldest + window - now).total_seconds()))
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                "Too many failed logins; try again later",
                headers={"Retry-After": str(retry_after)},
            )


async def record_failure(db: Database, config: AuthSettings, keys: list[str]) -> None:
    cutoff = utcnow() - timedelta(seconds=config.failed_login_window_seconds)
    await db.execute(_FORGET_OLD, keys=keys, since=cutoff)
    await db.execute(_RECORD, keys=keys, retry=False)


async def clear(db: Database, keys: list[str]) -> None:
    await db.execute(_CLEAR, keys=keys)
