"""Task: T-401, T-402
Spec: specs/features/authentication.md §Personal access tokens

Personal access tokens: `tdp_` and 256 random bits, shown once and stored only as a sha256
(high-entropy, so a slow hash adds nothing). The prefix tells them from JWTs without parsing.

A token is looked up by one statement that also records its use (`_USE`), and the answer is
remembered per process for at most `personal_token_cache_seconds` (5): a revoked token (its row
deleted) is refused by every instance within that time, and a script sending one token many
times a second costs one round trip per instance per window, not one per request.
"""

import secrets
import time
from datetime import datetime

from sqlalchemy import Text, bindparam, delete, func, insert, literal, or_, select, update

from app.core import AuthenticationError, Database, Principal, Row, new_id, secret_digest
from app.plugins.auth.models import PersonalToken

PREFIX = "tdp_"
# A user's tokens at most (checked by each create; creates racing each other may pass it by
# their number). They are listed without pages.
MAX_TOKENS = 100
# Tokens remembered per process: past this many, the memory is cleared and refilled.
REMEMBERED_TOKENS = 100_000

NOW = func.now()
_COLUMNS = (
    PersonalToken.id,
    PersonalToken.name,
    PersonalToken.scopes,
    PersonalToken.created_at,
    PersonalToken.expires_at,
    PersonalToken.last_used_at,
)
# Live tokens only; its use recorded in the same statement (no second round trip).
_USE = (
    update(PersonalToken)
    .where(
        PersonalToken.token_hash == bindparam("token_hash"),
        or_(PersonalToken.expires_at.is_(None), PersonalToken.expires_at > NOW),
    )
    .values(last_used_at=NOW)
    .returning(PersonalToken.user_id, PersonalToken.scopes, PersonalToken.expires_at)
)
_COUNT = (
    select(func.count())
    .select_from(PersonalToken)
    .where(PersonalToken.user_id == bindparam("user_id"))
    .scalar_subquery()
)
# One statement: nothing is inserted once the user holds MAX_TOKENS.
_CREATE = (
    insert(PersonalToken)
    .from_select(
        ["id", "user_id", "name", "token_hash", "scopes", "created_at", "expires_at"],
        select(
            bindparam("id", type_=Text),
            bindparam("user_id", type_=Text),
            bindparam("name", type_=Text),
            bindparam("token_hash", type_=Text),
            bindparam("scopes", type_=PersonalToken.__table__.c.scopes.type),
            NOW,
            bindparam("expires_at", type_=PersonalToken.__table__.c.expires_at.type),
        ).where(literal(MAX_TOKENS) > _COUNT),
    )
    .returning(*_COLUMNS)
)
LIST = (
    select(*_COLUMNS)
    .where(PersonalToken.user_id == bindparam("user_id"))
    .order_by(PersonalToken.created_at.desc(), PersonalToken.id)
)
_REVOKE = (
    delete(PersonalToken)
    .where(PersonalToken.id == bindparam("id"), PersonalToken.user_id == bindparam("user_id"))
    .returning(PersonalToken.id)
)


def new_token() -> tuple[str, str]:
    """A token and its digest, the only form stored."""
    token = PREFIX + secrets.token_urlsafe(32)
    return token, secret_digest(token)


class PersonalTokens:
    """Who a personal token names, remembered for at most `cache_seconds` per process."""

    def __init__(self, cache_seconds: float) -> None:
        self.cache_seconds = cache_seconds
        # token -> (principal, when looked up (monotonic), when it expires (epoch) or None)
        self._known: dict[str, tuple[Principal, float, float | None]] = {}

    def forget(self, user_id: str | None = None) -> None:
        """Look the tokens of `user_id` (deleted here) up again; without one, every token (one
        was revoked here; which, only its hash would say)."""
        if user_id is None:
            self._known.clear()
        else:
            self._known = {
                token: known for token, known in self._known.items() if known[0].id != user_id
            }

    async def authenticate(self, db: Database, token: str) -> Principal:
        known = self._known.get(token)
        if known is not None:
            principal, looked_up, expires = known
            if time.monotonic() - looked_up < self.cache_seconds and (
                expires is None or time.time() < expires
            ):
                return principal
            del self._known[token]
        found = await db.fetchrow(_USE, token_hash=secret_digest(token))
        if found is None:  # unknown, revoked or expired: one answer, which says nothing
            raise AuthenticationError("Invalid token")
        principal = Principal(id=found["user_id"], scopes=frozenset(found["scopes"]))
        if self.cache_seconds > 0:
            if len(self._known) >= REMEMBERED_TOKENS:
                self._known.clear()
            expires_at: datetime | None = found["expires_at"]
            expires = expires_at.timestamp() if expires_at is not None else None
            self._known[token] = (principal, time.monotonic(), expires)
        return principal


async def create(
    db: Database, user_id: str, name: str, scopes: list[str], expires_at: datetime | None
) -> tuple[str, Row] | None:
    """A new token and its row; None when the user holds `MAX_TOKENS` already."""
    token, token_hash = new_token()
    row = await db.fetchrow(
        _CREATE,
        id=new_id(),
        user_id=user_id,
        name=name,
        token_hash=token_hash,
        scopes=scopes,
        expires_at=expires_at,
        retry=False,  # applied twice, the second would collide with the first's row
    )
    return None if row is None else (token, row)


async def listed(db: Database, user_id: str) -> list[Row]:
    return await db.fetch(LIST, user_id=user_id)


async def revoke(db: Database, user_id: str, token_id: str) -> bool:
    """Delete the user's token `token_id`: False when they have none of that id."""
    return await db.fetchval(_REVOKE, id=token_id, user_id=user_id) is not None
