"""Task: T-020, T-102, T-381, T-403
Spec: specs/features/authentication.md §Overview

The auth plugin: local accounts with JWT access tokens and rotating refresh tokens, Better Auth
tokens, and the kernel's shared authentication hook. Nothing outside this package imports its
internals: other plugins learn the user through `app.core.CurrentUser`.
"""

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass

import httpx
from fastapi import APIRouter, FastAPI
from joserfc.jwk import OctKey
from pydantic import BaseModel
from sqlmodel import SQLModel

from app.core import Authenticator, Context, body_limit, hookimpl, no_store, requires_scope
from app.plugins.auth import account_data, hookspecs, sessions
from app.plugins.auth.authenticator import Authenticator as TokenAuthenticator
from app.plugins.auth.hookspecs import Post
from app.plugins.auth.letters import Compose, composers, logging_outbox
from app.plugins.auth.models import AccountToken, LoginFailure, PersonalToken, RefreshToken, User
from app.plugins.auth.passwords import Passwords
from app.plugins.auth.personal_routes import ACCOUNT_SCOPE, build_token_router
from app.plugins.auth.routes import build_router
from app.plugins.auth.secret import signing_secret
from app.plugins.auth.settings import AuthSettings
from app.plugins.auth.tokens import Issuer

__all__ = ["hookspecs"]

NAME = "auth"
BODY_LIMIT = 64 * 1024


@dataclass(frozen=True)
class Auth:
    """This app's auth objects, built once and shared by the hooks below."""

    config: AuthSettings
    issuer: Issuer
    authenticator: TokenAuthenticator
    passwords: Passwords

    @classmethod
    def of(cls, context: Context) -> "Auth":
        def make() -> Auth:
            config = context.settings_for(NAME, AuthSettings)
            issuer = Issuer(
                OctKey.import_key(signing_secret(context.settings, config)),
                config.jwt_algorithm,
                config.jwt_access_token_expire_minutes * 60,
            )
            authenticator = TokenAuthenticator(config, issuer.verifier(config.leeway_seconds))
            return cls(config, issuer, authenticator, Passwords(config.hashing_queue_seconds))

        return context.shared(NAME, make)


@hookimpl
def settings_model() -> type[BaseModel]:
    return AuthSettings


@hookimpl
def models() -> Sequence[type[SQLModel]]:
    return [User, RefreshToken, LoginFailure, AccountToken, PersonalToken]


@hookimpl
def authenticator(context: Context) -> Authenticator:
    return Auth.of(context).authenticator


@hookimpl
def routers(context: Context) -> Sequence[APIRouter]:
    auth = Auth.of(context)
    # The mail plugin's outbox when it is enabled (a job composes and sends each letter), else
    # the log: auth starts without `jobs` or `mail`.
    outboxes: list[Post] = context.hook.mail_outbox(context=context)
    outbox = (
        outboxes[0]
        if outboxes
        else logging_outbox(composers(auth.config), context.settings.embedded_database)
    )
    routers = [
        build_router(auth.issuer, auth.config, auth.passwords, outbox),
        sessions.build_router(),
        account_data.build_router(
            auth.config,
            auth.passwords,
            context.collect("before_account_deletion"),
            # In pluggy's order, not the plugins': an implementation marked `trylast` (the
            # change log's, which the others' deletions write to) runs after all others.
            context.hook.after_account_deletion(context=context),
            [
                account_data.ExportSection(name, statement, key)
                for sections in context.collect("account_export")
                for name, (statement, key) in sections.items()
            ],
            auth.authenticator.forget,
        ),
        build_token_router(auth.authenticator.personal),
    ]
    for router in routers:
        for route in router.routes:
            # Answers hold tokens: never cached. Requests hold credentials: small. A personal
            # token never manages accounts, sessions or tokens, nor deletes or exports the
            # account: none is given `auth:account`.
            endpoint = route.endpoint  # type: ignore[attr-defined]
            requires_scope(ACCOUNT_SCOPE)(body_limit(BODY_LIMIT)(no_store(endpoint)))
    return routers


@hookimpl(optionalhook=True)
def mail_letters(context: Context) -> Mapping[str, Compose]:
    """The mail plugin's hook: the letters auth posts, composed in the mail job."""
    return composers(Auth.of(context).config)


@hookimpl
def lifespan(context: Context) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    jwks = Auth.of(context).authenticator.jwks

    @asynccontextmanager
    async def jwks_client(app: FastAPI) -> AsyncIterator[None]:
        if jwks is None:
            yield
            return
        # No redirects: only the configured JWKS URL is ever fetched.
        async with httpx.AsyncClient(timeout=5, follow_redirects=False) as client:
            jwks.client = client
            yield
            jwks.client = None

    return jwks_client
