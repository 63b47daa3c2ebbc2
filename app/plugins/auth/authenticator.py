"""Task: T-026, T-105, T-106, T-158, T-277, T-402
Spec: specs/features/authentication.md §Shared authentication hook, §Better Auth tokens,
§Personal access tokens

The auth plugin's answer to the kernel's `authenticator` hook: who does a bearer token name?

The verifier is chosen by the token's (unverified) `iss` and `kid`, never by its `alg`:
`iss` = this API → the local HMAC verifier; no `kid` and `iss` absent or Better Auth's → the
shared `BETTER_AUTH_SECRET` verifier (HS256 only), if configured, as front ends sign such
tokens without `iss` or `aud`; `iss` = Better Auth and a `kid` → the JWKS key with that id,
asymmetric algorithms only. Anything else is not ours to judge (None). A token starting with
`tdp_` is a personal access token (personal.py), never a JWT.
"""

import time
from typing import Any

import asyncpg
from joserfc.jwk import OctKey
from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects.postgresql import insert

from app.core import AuthenticationError, Database, Principal
from app.plugins.auth.jwks import JWKS
from app.plugins.auth.models import User
from app.plugins.auth.personal import PREFIX, PersonalTokens
from app.plugins.auth.settings import AuthSettings
from app.plugins.auth.tokens import ASYMMETRIC, LOCAL_ISSUER, Verifier, unverified

# Users remembered per process: past this many, the memory is cleared and refilled.
REMEMBERED_USERS = 100_000
REMEMBERED_TOKENS = 100_000
# The issuer recorded for users of shared-secret tokens when no Better Auth issuer is set.
SHARED_SECRET_ISSUER = "better-auth"

_LOCAL_USER_EXISTS = select(User.id).where(User.id == bindparam("id"), User.issuer == LOCAL_ISSUER)
# A Better Auth user, created on first sight and kept up to date; a row of another issuer
# with the same id is left alone (the RETURNING then says nothing and the token is refused).
_EXTERNAL_USER = insert(User).values(
    id=bindparam("id"),
    issuer=bindparam("issuer"),
    email=bindparam("email"),
    name=bindparam("name"),
    created_at=func.now(),
    updated_at=func.now(),
)
_EXTERNAL_FIELDS = {"email", "name"}


def _upsert(fields: set[str]) -> Any:
    statement = _EXTERNAL_USER.on_conflict_do_update(
        index_elements=[User.id],
        set_={field: getattr(_EXTERNAL_USER.excluded, field) for field in fields}
        | {"updated_at": func.now()},
        where=User.issuer == _EXTERNAL_USER.excluded.issuer,
    )
    return statement.returning(User.id)


_UPSERT = _upsert(_EXTERNAL_FIELDS)
# When the email belongs to another account of the issuer, the user is kept without it.
_UPSERT_WITHOUT_EMAIL = _upsert({"name"})


def _text(claims: dict[str, Any], name: str) -> str | None:
    """A string claim PostgreSQL can store (no NUL); anything else counts as absent."""
    value = claims.get(name)
    return value if isinstance(value, str) and "\x00" not in value else None


class Authenticator:
    def __init__(self, config: AuthSettings, local: Verifier) -> None:
        self.local = local
        self.leeway = config.leeway_seconds
        self.max_lifetime = config.better_auth_max_lifetime_seconds
        self.recheck_seconds = config.user_recheck_seconds
        base = config.better_auth_url.rstrip("/") if config.better_auth_url else None
        self.issuer = config.better_auth_issuer or base
        self.audience = config.better_auth_audience or base
        self.jwks = JWKS(f"{base}/api/auth/jwks", config.jwks_refresh_seconds) if base else None
        self.shared: Verifier | None = None
        if config.better_auth_secret is not None:
            key = OctKey.import_key(config.better_auth_secret.get_secret_value())
            self.shared = Verifier(
                key,
                ["HS256"],
                self.issuer,
                self.max_lifetime,
                self.audience,
                self.leeway,
                required_claims=False,
            )
        self.user_issuer = self.issuer or SHARED_SECRET_ISSUER
        self.personal = PersonalTokens(config.personal_token_cache_seconds)
        # Local user id -> when it was last seen in the database (monotonic seconds).
        self._checked: dict[str, float] = {}
        # Local tokens already verified -> (user id, exp): a client sends the same token for
        # its whole lifetime, and verifying an HMAC JWT costs more than the rest of a read.
        self._verified: dict[str, tuple[str, float]] = {}
        # Better Auth user id -> the (email, name) last written for it, and when.
        self._external: dict[str, tuple[str | None, str | None, float]] = {}

    async def __call__(self, token: str, db: Database) -> Principal | None:
        known = self._verified.get(token)
        if known is not None and time.time() < known[1] + self.leeway:
            await self._check_local_user(db, known[0])
            return Principal(id=known[0])
        if token.startswith(PREFIX):
            return await self.personal.authenticate(db, token)
        parts = unverified(token)
        if parts is None:
            return None
        header, claims = parts
        issuer = claims.get("iss")
        if issuer == LOCAL_ISSUER:
            verified = self.local.verify(token)
            await self._check_local_user(db, verified["sub"])
            if len(self._verified) >= REMEMBERED_TOKENS:
                self._verified.clear()
            self._verified[token] = (verified["sub"], float(verified["exp"]))
            return Principal(id=verified["sub"])
        if "kid" not in header and self.shared is not None and issuer in (None, self.issuer):
            return await self._external_user(db, self.shared.verify(token))
        if self.issuer is None or issuer != self.issuer:
            return None
        verified = (await self._jwks_verifier(header)).verify(token)
        return await self._external_user(db, verified)

    def forget(self, user_id: str) -> None:
        """A user deleted here: this process asks the database again at their next token (and
        refuses a local one; a Better Auth one makes a new, empty account). Their personal
        tokens went with them: none is taken from the cache either."""
        self._checked.pop(user_id, None)
        self._external.pop(user_id, None)
        self.personal.forget(user_id)

    async def _check_local_user(self, db: Database, user_id: str) -> None:
        """A verified token is trusted for its lifetime, except that the user must still
        exist: asked of the database at most once per `user_recheck_seconds` per user."""
        now = time.monotonic()
        checked = self._checked.get(user_id)
        if checked is not None and now - checked < self.recheck_seconds:
            return
        if await db.fetchval(_LOCAL_USER_EXISTS, id=user_id) is None:
            self._checked.pop(user_id, None)
            raise AuthenticationError("Invalid token")
        if len(self._checked) >= REMEMBERED_USERS:
            self._checked.clear()
        self._checked[user_id] = now

    async def _jwks_verifier(self, header: dict[str, Any]) -> Verifier:
        kid = header.get("kid")
        if isinstance(kid, str) and self.jwks is not None and self.issuer is not None:
            keys = await self.jwks.key_set(kid)
            if keys is not None:
                return Verifier(
                    keys, ASYMMETRIC, self.issuer, self.max_lifetime, self.audience, self.leeway
                )
        raise AuthenticationError("Invalid token")

    async def _external_user(self, db: Database, claims: dict[str, Any]) -> Principal:
        """The local user for a Better Auth `sub`: created on first sight, updated when the
        token's email or name changes; one statement, and none while nothing changed, except
        once per `user_recheck_seconds`: a user deleted on another instance is made again, new
        and empty, as the deleting instance makes them, rather than refused every write."""
        user_id = claims["sub"]
        email, name = _text(claims, "email"), _text(claims, "name")
        now = time.monotonic()
        written_before = self._external.get(user_id)
        if (
            written_before is None
            or written_before[:2] != (email, name)
            or now - written_before[2] >= self.recheck_seconds
        ):
            values = {"id": user_id, "issuer": self.user_issuer, "email": email, "name": name}
            try:
                written = await db.fetchval(_UPSERT, **values)
            except asyncpg.UniqueViolationError:  # the email belongs to another account
                written = await db.fetchval(_UPSERT_WITHOUT_EMAIL, **values | {"email": None})
            if written is None:  # the id belongs to a user of another issuer
                raise AuthenticationError("Invalid token")
            if len(self._external) >= REMEMBERED_USERS:
                self._external.clear()
            self._external[user_id] = (email, name, now)
        return Principal(id=user_id, email=email, name=name)
