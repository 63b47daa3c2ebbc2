"""Task: T-029, T-100, T-102, T-103, T-104, T-106, T-150, T-157, T-279, T-383, T-385
Spec: specs/api/rest-endpoints.md §Auth

`/api/v1/auth`: accounts, logins, token refresh and logout.
"""

from typing import Annotated
from uuid import uuid4

import asyncpg
from fastapi import APIRouter, Body, Form, HTTPException, Request, Response, status
from sqlalchemy import bindparam, func, insert, select, update
from sqlmodel import col

from app.core import (
    DB,
    LOCATION,
    NO_NUL,
    CurrentUser,
    Problem,
    json_response,
    public,
    token_endpoint,
)
from app.plugins.auth import account, letters, refresh, throttle
from app.plugins.auth.bearer import session_of
from app.plugins.auth.hookspecs import Post
from app.plugins.auth.models import User, utcnow
from app.plugins.auth.passwords import Passwords
from app.plugins.auth.schemas import (
    Credentials,
    LogoutRequest,
    RefreshRequest,
    Registration,
    TokenPair,
    UserOut,
)
from app.plugins.auth.sessions import client_of
from app.plugins.auth.settings import AuthSettings
from app.plugins.auth.tokens import LOCAL_ISSUER, Issuer

UNAUTHORIZED = {401: {"model": Problem, "description": "Wrong credentials or token"}}
UNVERIFIED = {
    403: {"model": Problem, "description": "A verified email is required and this one is not"}
}
THROTTLED = {429: {"model": Problem, "description": "Too many failed logins; see Retry-After"}}
UNSUPPORTED_GRANT = {
    400: {
        "model": Problem,
        "description": "`unsupported_grant_type`: grant_type is missing or not `password`; or "
        "a malformed request (a body that cannot be read, more than 100 query parameters)",
    }
}
# The kernel declares the 503 of the database; these routes also answer it for hashing.
BUSY = {
    503: {
        "model": Problem,
        "description": "The database is unavailable, or every hashing slot is taken (half the "
        "cores) and this request waited too long; retry after `Retry-After` seconds",
    }
}

_BY_EMAIL = select(User.id, User.password_hash, User.email_verified_at).where(
    User.issuer == LOCAL_ISSUER, func.lower(User.email) == func.lower(bindparam("email"))
)
EMAIL_VERIFIED = col(User.email_verified_at).is_not(None).label("email_verified")
USER_OUT = (User.id, User.email, User.name, EMAIL_VERIFIED, User.created_at)
_USER_OUT = select(*USER_OUT).where(User.id == bindparam("id"))
_REGISTER = (
    insert(User)
    .values(
        id=bindparam("id"),
        issuer=LOCAL_ISSUER,
        email=bindparam("email"),
        name=bindparam("name"),
        password_hash=bindparam("password_hash"),
        created_at=bindparam("now"),
        updated_at=bindparam("now"),
    )
    .returning(*USER_OUT)
)
_REHASH = (
    update(User)
    .where(User.id == bindparam("id"))
    .values(password_hash=bindparam("password_hash"), updated_at=bindparam("now"))
)


def _taken() -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, "An account with this email already exists")


def build_router(
    issuer: Issuer, config: AuthSettings, passwords: Passwords, outbox: Post
) -> APIRouter:
    router = APIRouter(prefix="/auth", tags=["auth"])

    def pair(user_id: str, family_id: str, refresh_token: str) -> TokenPair:
        """Tokens of session `family_id`: the access token names it as `sid`."""
        return TokenPair(
            access_token=issuer.issue(user_id, session=family_id),
            expires_in=issuer.lifetime_seconds,
            refresh_token=refresh_token,
        )

    async def login(credentials: Credentials, request: Request, db: DB) -> TokenPair:
        client = client_of(request)
        keys = throttle.Keys.of(credentials.email, client.address)
        await throttle.attempt(db, config, keys)
        user = await db.fetchrow(_BY_EMAIL, email=credentials.email)
        # No connection is held while the password is checked: each statement is its own.
        valid, new_hash = await passwords.verify(
            credentials.password, user["password_hash"] if user else None
        )
        if user is None or not valid:
            # One answer for an unknown email and a wrong password: no account enumeration.
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "Incorrect email or password",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if new_hash is not None:  # parameters changed since it was hashed
            await db.execute(_REHASH, id=user["id"], password_hash=new_hash, now=utcnow())
        if config.require_verified_email and user["email_verified_at"] is None:
            # Only the account's owner (the password was right) learns this; the way out is
            # the link mailed now, since the account cannot sign in to ask for one.
            await outbox(db, letters.VERIFY, {"user_id": user["id"]})
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                "Email not verified: open the link just mailed to it, then log in again",
            )
        await throttle.clear(db, keys)
        family_id = refresh.new_family()
        refresh_token = await refresh.issue(
            db, user["id"], config.refresh_token_days, family_id, client
        )
        return pair(user["id"], family_id, refresh_token)

    if config.local_accounts:

        @router.post(
            "/register",
            status_code=status.HTTP_201_CREATED,
            response_model=UserOut,
            responses={
                201: {"headers": LOCATION},
                409: {"description": "An account with this email exists already"},
            }
            | BUSY,
            description="Creates an account from an email, a name and a password (kept only as a "
            "hash) and answers it, with `Location` naming `GET /auth/me`; log in next for tokens. "
            "A link to confirm the email is mailed to it. An email registered already is a 409.",
        )
        @public
        async def register(registration: Registration, request: Request, db: DB) -> Response:
            if await db.fetchrow(_BY_EMAIL, email=registration.email) is not None:
                raise _taken()
            try:
                user = await db.fetchrow(
                    _REGISTER,
                    id=str(uuid4()),
                    email=registration.email,
                    name=registration.name,
                    password_hash=await passwords.hash(registration.password),
                    now=utcnow(),
                    retry=False,  # applied twice, the second would find the email taken
                )
            except asyncpg.UniqueViolationError:  # the same email registered concurrently
                raise _taken() from None
            await outbox(db, letters.VERIFY, {"user_id": user["id"]})
            return json_response(
                UserOut.model_validate(dict(user)),  # type: ignore[arg-type]
                status.HTTP_201_CREATED,
                {"Location": request.url_for("me").path},  # the account, once in
            )

        @router.post(
            "/login",
            name="login",
            response_model=TokenPair,
            responses=UNAUTHORIZED | UNVERIFIED | THROTTLED | BUSY,
            description="Exchanges an email and a password for an access token and a refresh "
            "token. Failed attempts are counted per account: past the limit, a 429 with "
            "`Retry-After`. Where a verified email is required, an unverified account's right "
            "password is a 403, and a fresh confirmation link is mailed.",
        )
        @public
        async def login_json(credentials: Credentials, request: Request, db: DB) -> Response:
            return json_response(await login(credentials, request, db))

        @router.post(
            "/token",
            name="token",
            response_model=TokenPair,
            responses=UNSUPPORTED_GRANT | UNAUTHORIZED | UNVERIFIED | THROTTLED | BUSY,
            summary="Login (OAuth2 password flow)",
            description="The same login as `POST /auth/login`, as the OAuth2 password form "
            "(`grant_type=password`) that the docs page's Authorize button sends. Any other grant "
            "type is a 400.",
        )
        @public
        @token_endpoint
        async def login_form(
            username: Annotated[
                str,
                Form(
                    pattern=NO_NUL, description="The account's email", examples=["ada@example.com"]
                ),
            ],
            password: Annotated[
                str,
                Form(
                    pattern=NO_NUL,
                    description="The account's password",
                    examples=["correct horse battery"],
                ),
            ],
            request: Request,
            db: DB,
            # Optional here only so that a missing one gets OAuth2's answer, not a 422.
            grant_type: Annotated[
                str | None,
                Form(
                    json_schema_extra={"enum": ["password"]},
                    description="OAuth2's grant type: only `password` is accepted",
                    examples=["password"],
                ),
            ] = None,
        ) -> Response:
            # RFC 6749 §4.3.2: the password grant names itself; nothing else is offered here.
            if grant_type != "password":
                raise HTTPException(
                    status.HTTP_400_BAD_REQUEST,
                    "unsupported_grant_type: only grant_type=password is accepted",
                )
            try:
                credentials = Credentials(email=username, password=password)
            except ValueError:
                raise HTTPException(
                    status.HTTP_401_UNAUTHORIZED,
                    "Incorrect email or password",
                    headers={"WWW-Authenticate": "Bearer"},
                ) from None
            return json_response(await login(credentials, request, db))

        @router.post(
            "/refresh",
            name="refresh",
            response_model=TokenPair,
            responses=UNAUTHORIZED,
            description="Exchanges a refresh token for a new access token and refresh token. Each "
            "refresh token is used once (sent again within a few seconds, as by a retry, it still "
            "gets a pair); an unknown, revoked or expired one is a 401.",
        )
        @public
        async def refresh_tokens(body: RefreshRequest, request: Request, db: DB) -> Response:
            rotated = await refresh.rotate(
                db,
                body.refresh_token,
                config.refresh_token_days,
                config.refresh_grace_seconds,
                client_of(request),
            )
            if rotated is None:
                raise HTTPException(
                    status.HTTP_401_UNAUTHORIZED,
                    "Invalid refresh token",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            return json_response(pair(*rotated))

    @router.post(
        "/logout",
        status_code=status.HTTP_204_NO_CONTENT,
        summary="Log out: end this session, another one, or all",
        responses={400: {"description": "No body, and the access token names no session"}},
        description="Ends a session: the access token's own, the one `refresh_token` names, or "
        "with `all: true` every session of yours. Their refresh tokens are refused from then on.",
    )
    async def logout(
        user: CurrentUser,
        request: Request,
        db: DB,
        body: Annotated[LogoutRequest | None, Body()] = None,
    ) -> Response:
        body = body or LogoutRequest()
        if body.all:
            await refresh.revoke_sessions(db, user.id)
        elif body.refresh_token is not None:
            await refresh.revoke_sessions(db, user.id, body.refresh_token)
        else:
            session = session_of(request)
            if session is None:
                raise HTTPException(
                    status.HTTP_400_BAD_REQUEST,
                    "This access token names no session (only those from login or refresh do): "
                    'send {"refresh_token": "…"} to end that session, or {"all": true}',
                )
            await refresh.end_session(db, user.id, session)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.get(
        "/me",
        response_model=UserOut,
        responses={404: {"description": "The account was deleted"}},
        description="Answers the account the bearer token belongs to; a 404 if it was deleted "
        "since the token was issued.",
    )
    async def me(user: CurrentUser, db: DB) -> Response:
        found = await db.fetchrow(_USER_OUT, id=user.id)
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "User not found")
        return json_response(UserOut.model_validate(dict(found)))

    account.add_routes(router, config, passwords, outbox)
    return router
