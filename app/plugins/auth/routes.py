"""Task: T-029
Spec: specs/api/rest-endpoints.md §Auth

`/api/v1/auth`: accounts, logins, token refresh and logout.
"""

from typing import Annotated
from uuid import uuid4

from fastapi import APIRouter, Body, Form, HTTPException, Request, Response, status
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import CurrentUser, Session, public
from app.core.problems import Problem
from app.plugins.auth import refresh, throttle
from app.plugins.auth.models import User
from app.plugins.auth.passwords import hash_password, verify_password
from app.plugins.auth.schemas import (
    Credentials,
    LogoutRequest,
    RefreshRequest,
    Registration,
    TokenPair,
    UserOut,
)
from app.plugins.auth.settings import AuthSettings
from app.plugins.auth.tokens import LOCAL_ISSUER, Issuer

UNAUTHORIZED = {401: {"model": Problem, "description": "Wrong credentials or token"}}
THROTTLED = {429: {"model": Problem, "description": "Too many failed logins; see Retry-After"}}


def _by_email(email: str):  # type: ignore[no-untyped-def]
    return select(User).where(User.issuer == LOCAL_ISSUER, func.lower(User.email) == email.lower())


def build_router(issuer: Issuer, config: AuthSettings) -> APIRouter:
    router = APIRouter(prefix="/auth", tags=["auth"])

    async def pair(session: AsyncSession, user_id: str, family_id: str | None = None) -> TokenPair:
        refresh_token = refresh.issue(session, user_id, config.refresh_token_days, family_id)
        await session.commit()
        return TokenPair(
            access_token=issuer.issue(user_id),
            expires_in=issuer.lifetime_seconds,
            refresh_token=refresh_token,
        )

    async def login(credentials: Credentials, request: Request, session: AsyncSession) -> TokenPair:
        keys = throttle.keys(credentials.email, request.client.host if request.client else None)
        await throttle.check(session, config, keys)
        user = await session.scalar(_by_email(credentials.email))
        valid, new_hash = await verify_password(
            credentials.password, user.password_hash if user else None
        )
        if user is None or not valid:
            await throttle.record_failure(session, config, keys)
            # One answer for an unknown email and a wrong password: no account enumeration.
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "Incorrect email or password",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if new_hash is not None:
            user.password_hash = new_hash  # parameters changed since it was hashed
        await throttle.clear(session, keys[:1])
        return await pair(session, user.id)

    if config.local_accounts:

        @router.post(
            "/register", status_code=status.HTTP_201_CREATED, responses={409: {"model": Problem}}
        )
        @public
        async def register(registration: Registration, session: Session) -> UserOut:
            if await session.scalar(_by_email(registration.email)) is not None:
                raise HTTPException(
                    status.HTTP_409_CONFLICT, "An account with this email already exists"
                )
            user = User(
                id=str(uuid4()),
                issuer=LOCAL_ISSUER,
                email=registration.email,
                name=registration.name,
                password_hash=await hash_password(registration.password),
            )
            session.add(user)
            try:
                await session.commit()
            except IntegrityError:  # the same email registered concurrently
                await session.rollback()
                raise HTTPException(
                    status.HTTP_409_CONFLICT, "An account with this email already exists"
                ) from None
            return UserOut.model_validate(user)

        @router.post("/login", responses=UNAUTHORIZED | THROTTLED)
        @public
        async def login_json(
            credentials: Credentials, request: Request, session: Session
        ) -> TokenPair:
            return await login(credentials, request, session)

        @router.post(
            "/token", responses=UNAUTHORIZED | THROTTLED, summary="Login (OAuth2 password flow)"
        )
        @public
        async def login_form(
            username: Annotated[str, Form()],
            password: Annotated[str, Form()],
            request: Request,
            session: Session,
        ) -> TokenPair:
            try:
                credentials = Credentials(email=username, password=password)
            except ValueError:
                raise HTTPException(
                    status.HTTP_401_UNAUTHORIZED,
                    "Incorrect email or password",
                    headers={"WWW-Authenticate": "Bearer"},
                ) from None
            return await login(credentials, request, session)

        @router.post("/refresh", responses=UNAUTHORIZED)
        @public
        async def refresh_tokens(body: RefreshRequest, session: Session) -> TokenPair:
            used = await refresh.consume(session, body.refresh_token)
            if used is None:
                await session.commit()  # keep the family revocation a reuse triggered
                raise HTTPException(
                    status.HTTP_401_UNAUTHORIZED,
                    "Invalid refresh token",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            return await pair(session, used.user_id, used.family_id)

    @router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
    async def logout(
        user: CurrentUser, session: Session, body: Annotated[LogoutRequest | None, Body()] = None
    ) -> Response:
        body = body or LogoutRequest()
        if body.all:
            await refresh.revoke_sessions(session, user.id)
        elif body.refresh_token is not None:
            await refresh.revoke_sessions(session, user.id, body.refresh_token)
        await session.commit()
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.get("/me")
    async def me(user: CurrentUser, session: Session) -> UserOut:
        found = await session.get(User, user.id)
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "User not found")
        return UserOut.model_validate(found)

    return router
