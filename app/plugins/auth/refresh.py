"""Task: T-028, T-103, T-157, T-390
Spec: specs/features/authentication.md §Refresh tokens, §Sessions

Opaque refresh tokens: random, stored only as a sha256 (they are high-entropy, so a slow hash
adds nothing) and rotated. Each login starts a family; using a token marks it used and issues a
new one in the same family, in one statement (`_ROTATE`), so no transaction is needed and
nothing is half done.

A token presented again within `refresh_grace_seconds` of its first use — a second tab, or a
client retrying a refresh whose answer it lost — gets a *new* token in the same family: the
plaintext of the first is never kept to be handed out again. Later, reuse means the token was
stolen or replayed, and the whole family is revoked. A family with any revoked token is dead:
a token issued into it while it was being revoked cannot be used either.

A family is a session: the access tokens issued with its refresh tokens name it as `sid`, so
logout can end the session an access token belongs to.
"""

import secrets
import uuid
from typing import Any, NamedTuple

from sqlalchemy import (
    Integer,
    Text,
    and_,
    bindparam,
    exists,
    func,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by, insert
from sqlalchemy.orm import aliased

from app.core import Database, Executor, secret_digest
from app.plugins.auth.models import RefreshToken

# Times come from the database's clock, so instances with skewed clocks agree on the window.
NOW = func.now()
DAY, SECOND = literal_column("interval '1 day'"), literal_column("interval '1 second'")
LIFETIME = bindparam("days", type_=Integer) * DAY
_ISSUE = insert(RefreshToken).values(
    token_hash=bindparam("token_hash"),
    user_id=bindparam("user_id"),
    family_id=bindparam("family_id"),
    created_at=NOW,
    expires_at=NOW + LIFETIME,
    user_agent=bindparam("user_agent", type_=Text),
    address=bindparam("address", type_=Text),
)

_sibling = aliased(RefreshToken)
# The token, live, unused or first used within the grace window; its first use is kept.
# Row locks order concurrent uses: the second sees the first's `used_at` and is in the window.
_USE = (
    update(RefreshToken)
    .where(
        RefreshToken.token_hash == bindparam("token_hash"),
        RefreshToken.revoked_at.is_(None),
        RefreshToken.expires_at > NOW,
        or_(
            RefreshToken.used_at.is_(None),
            RefreshToken.used_at > NOW - bindparam("grace", type_=Integer) * SECOND,
        ),
        ~exists().where(
            _sibling.family_id == RefreshToken.family_id, _sibling.revoked_at.is_not(None)
        ),
    )
    .values(used_at=func.coalesce(RefreshToken.used_at, NOW))
    .returning(RefreshToken.user_id, RefreshToken.family_id)
    .cte("used")
)
# ... and its successor, stored in the same statement. Applied twice (a retry after a dropped
# connection, inside the window) the use changes nothing and the successor already exists.
_NEXT = (
    insert(RefreshToken)
    .from_select(
        ["token_hash", "user_id", "family_id", "created_at", "expires_at", "user_agent", "address"],
        select(
            bindparam("next_hash"),
            _USE.c.user_id,
            _USE.c.family_id,
            NOW,
            NOW + LIFETIME,
            bindparam("user_agent", type_=Text),
            bindparam("address", type_=Text),
        ),
    )
    .on_conflict_do_nothing(index_elements=[RefreshToken.token_hash])
    .returning(RefreshToken.token_hash)
    .cte("successor")
)
_ROTATE = select(_USE.c.user_id, _USE.c.family_id).add_cte(_NEXT)

_FAMILY_IF_USED = select(RefreshToken.family_id).where(
    RefreshToken.token_hash == bindparam("token_hash"), RefreshToken.used_at.is_not(None)
)
_REVOKE = update(RefreshToken).where(RefreshToken.revoked_at.is_(None)).values(revoked_at=NOW)
_REVOKE_FAMILY = _REVOKE.where(RefreshToken.family_id == bindparam("family_id"))
_REVOKE_ALL = _REVOKE.where(RefreshToken.user_id == bindparam("user_id"))
_REVOKE_USERS_FAMILY = _REVOKE_ALL.where(RefreshToken.family_id == bindparam("family_id"))
# Every session of the user but one (`DELETE /sessions`: all but the caller's).
_REVOKE_OTHERS = _REVOKE_ALL.where(RefreshToken.family_id != bindparam("family_id"))
_REVOKE_SESSION = _REVOKE_ALL.where(
    RefreshToken.family_id
    == select(RefreshToken.family_id)
    .where(
        RefreshToken.token_hash == bindparam("token_hash"),
        RefreshToken.user_id == bindparam("user_id"),
    )
    .scalar_subquery()
)


# The user's live sessions, most recently used first: one row per family none of whose tokens
# is revoked and whose latest token has not expired. A family's tokens are its login's and its
# refreshes', so its first token's time is the login's, its latest token's the last refresh's,
# and the latest token's client is the one using the session now.
_LATEST = func.max(RefreshToken.created_at)


def _latest(column: Any) -> Any:
    return func.array_agg(aggregate_order_by(column, RefreshToken.created_at.desc()))[1]


SESSIONS = (
    select(
        RefreshToken.family_id.label("id"),
        func.min(RefreshToken.created_at).label("created_at"),
        _LATEST.label("last_used_at"),
        _latest(RefreshToken.user_agent).label("user_agent"),
        _latest(RefreshToken.address).label("address"),
    )
    .where(RefreshToken.user_id == bindparam("user_id"))
    .group_by(RefreshToken.family_id)
    .having(
        and_(
            func.bool_and(RefreshToken.revoked_at.is_(None)),
            func.max(RefreshToken.expires_at) > NOW,
        )
    )
    .order_by(_LATEST.desc(), RefreshToken.family_id)
)


def _new_token() -> str:
    return secrets.token_urlsafe(32)


def new_family() -> str:
    """The id of a new session: the family of the tokens one login leads to."""
    return uuid.uuid4().hex


class Client(NamedTuple):
    """Who a refresh token is issued to, as the session list shows it."""

    user_agent: str | None
    address: str | None


async def issue(db: Executor, user_id: str, days: int, family_id: str, client: Client) -> str:
    """Store the first refresh token of session (family) `family_id` and return it."""
    token = _new_token()
    await db.execute(
        _ISSUE,
        token_hash=secret_digest(token),
        user_id=user_id,
        family_id=family_id,
        days=days,
        user_agent=client.user_agent,
        address=client.address,
    )
    return token


class Rotated(NamedTuple):
    user_id: str
    family_id: str
    refresh_token: str


async def rotate(
    db: Database, token: str, days: int, grace_seconds: int, client: Client
) -> Rotated | None:
    """Use `token`: its user id, its family and the next refresh token of that family, or None
    if it is not usable (after revoking its family when it was reused past the grace window)."""
    following = _new_token()
    used = await db.fetchrow(
        _ROTATE,
        token_hash=secret_digest(token),
        next_hash=secret_digest(following),
        days=days,
        grace=grace_seconds,
        user_agent=client.user_agent,
        address=client.address,
        # Without a window, a second application would find the token used and fail.
        retry=grace_seconds > 0,
    )
    if used is not None:
        return Rotated(used["user_id"], used["family_id"], following)
    family = await db.fetchval(_FAMILY_IF_USED, token_hash=secret_digest(token))
    if family is not None:
        await db.execute(_REVOKE_FAMILY, family_id=family)
    return None


async def revoke_sessions(db: Database, user_id: str, token: str | None = None) -> None:
    """End the session (family) of `token`, or every session of the user without one.

    Scoped to `user_id`: a token of somebody else is silently left alone.
    """
    if token is None:
        await db.execute(_REVOKE_ALL, user_id=user_id)
    else:
        await db.execute(_REVOKE_SESSION, user_id=user_id, token_hash=secret_digest(token))


async def end_session(db: Database, user_id: str, family_id: str) -> bool:
    """Revoke session `family_id` of the user (an access token's `sid`); False when the user
    has no such session still to end. The database is asked, never a cache: every instance
    refuses the session's refresh tokens from the moment this returns."""
    tag = await db.execute(_REVOKE_USERS_FAMILY, user_id=user_id, family_id=family_id)
    return tag != "UPDATE 0"


async def end_other_sessions(db: Database, user_id: str, family_id: str | None) -> None:
    """Revoke every session of the user but `family_id` (all of them without one)."""
    if family_id is None:
        await db.execute(_REVOKE_ALL, user_id=user_id)
    else:
        await db.execute(_REVOKE_OTHERS, user_id=user_id, family_id=family_id)
