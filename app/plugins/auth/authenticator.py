"""Task: T-026
Spec: specs/features/authentication.md §Shared authentication hook

The auth plugin's answer to the kernel's `authenticator` hook: who does a bearer token name?

The verifier is chosen by the token's (unverified) `iss` and `kid`, never by its `alg`:
`iss` = this API → the local HMAC verifier; `iss` = Better Auth and a `kid` → the JWKS key with
that id, asymmetric algorithms only; `iss` = Better Auth without a `kid` → the shared
`BETTER_AUTH_SECRET` verifier, if configured. Anything else is not ours to judge (None).
"""

from typing import Any

from joserfc.jwk import OctKey
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import AuthenticationError, Principal
from app.core.errors import ConfigError
from app.core.settings import Settings
from app.plugins.auth.jwks import JWKS
from app.plugins.auth.models import User, utcnow
from app.plugins.auth.settings import AuthSettings
from app.plugins.auth.tokens import ASYMMETRIC, LOCAL_ISSUER, Verifier, unverified


def principal(user: User) -> Principal:
    return Principal(id=user.id, email=user.email, name=user.name)


class Authenticator:
    def __init__(self, settings: Settings, config: AuthSettings, local: Verifier) -> None:
        self.local = local
        self.leeway = config.leeway_seconds
        base = settings.better_auth_url.rstrip("/") if settings.better_auth_url else None
        self.issuer = settings.better_auth_issuer or base
        self.audience = settings.better_auth_audience or base
        self.jwks = JWKS(f"{base}/api/auth/jwks", config.jwks_refresh_seconds) if base else None
        self.shared: Verifier | None = None
        if settings.better_auth_secret is not None:
            if self.issuer is None:
                raise ConfigError(
                    "BETTER_AUTH_SECRET is set: also set BETTER_AUTH_URL (or BETTER_AUTH_ISSUER)"
                )
            key = OctKey.import_key(settings.better_auth_secret.get_secret_value())
            self.shared = Verifier(key, ["HS256"], self.issuer, self.audience, self.leeway)

    async def __call__(self, token: str, session: AsyncSession) -> Principal | None:
        parts = unverified(token)
        if parts is None:
            return None
        header, claims = parts
        issuer = claims.get("iss")
        if issuer == LOCAL_ISSUER:
            verified = self.local.verify(token)
            # Every request asks this; plain columns skip the ORM's per-object bookkeeping.
            user = (
                await session.execute(
                    select(User.id, User.email, User.name).where(
                        User.id == verified["sub"], User.issuer == LOCAL_ISSUER
                    )
                )
            ).first()
            if user is None:
                raise AuthenticationError("Invalid token")
            return Principal(id=user.id, email=user.email, name=user.name)
        if self.issuer is None or issuer != self.issuer:
            return None
        verified = (await self._external_verifier(header)).verify(token)
        return principal(await self._external_user(session, verified))

    async def _external_verifier(self, header: dict[str, Any]) -> Verifier:
        kid = header.get("kid")
        if kid is None and self.shared is not None:
            return self.shared
        if isinstance(kid, str) and self.jwks is not None and self.issuer is not None:
            keys = await self.jwks.key_set(kid)
            if keys is not None:
                return Verifier(keys, ASYMMETRIC, self.issuer, self.audience, self.leeway)
        raise AuthenticationError("Invalid token")

    async def _external_user(self, session: AsyncSession, claims: dict[str, Any]) -> User:
        """The local user for a Better Auth `sub`: created on first sight, kept up to date."""
        assert self.issuer is not None
        email = claims.get("email") if isinstance(claims.get("email"), str) else None
        name = claims.get("name") if isinstance(claims.get("name"), str) else None
        user = await session.get(User, claims["sub"])
        # Two first requests may race, and the email may already belong to another account
        # of this issuer: insert whatever does not conflict, without the email if need be.
        for values in ({"email": email, "name": name}, {"name": name}):
            if user is not None:
                break
            await session.execute(
                insert(User)
                .values(id=claims["sub"], issuer=self.issuer, **values)
                .on_conflict_do_nothing()
            )
            await session.commit()
            user = await session.get(User, claims["sub"])
        assert user is not None
        if user.issuer != self.issuer:
            raise AuthenticationError("Invalid token")
        changes = {
            key: value
            for key, value in (("email", email), ("name", name))
            if value is not None and getattr(user, key) != value
        }
        if changes:
            for key, value in changes.items():
                setattr(user, key, value)
            user.updated_at = utcnow()
            try:
                await session.commit()
            except IntegrityError:  # the email belongs to another account of this issuer
                await session.rollback()
        return user
