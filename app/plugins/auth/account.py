"""Task: T-383, T-384, T-385, T-386, T-387
Spec: specs/features/authentication.md §Account changes; specs/api/rest-endpoints.md §Auth

`/api/v1/auth` routes that change a local account: password reset and change, email
verification, `PATCH /me`.

Only local accounts have a password or an email kept here: a Better Auth token gets 403 from
the routes that need one (Better Auth owns those accounts; change them there). Reset requests,
verification requests and password changes are throttled as logins are (throttle.py), on keys
of their own.
"""

from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Body, HTTPException, Request, Response, status
from sqlalchemy import bindparam, select, text
from sqlmodel import col

from app.core import DB, CurrentUser, Problem, json_response, one_or_404, public
from app.plugins.auth import account_tokens, letters, throttle
from app.plugins.auth.bearer import local_claims, session_of
from app.plugins.auth.hookspecs import Post
from app.plugins.auth.models import User
from app.plugins.auth.passwords import Passwords
from app.plugins.auth.schemas import (
    AccountUpdate,
    EmailConfirmation,
    PasswordChange,
    PasswordReset,
    PasswordResetRequest,
    UserOut,
)
from app.plugins.auth.sessions import client_of
from app.plugins.auth.settings import AuthSettings

Responses = dict[int | str, dict[str, Any]]

BETTER_AUTH: Responses = {
    403: {
        "model": Problem,
        "description": "A Better Auth account: its password and email are Better Auth's",
    }
}
THROTTLED: Responses = {
    429: {"model": Problem, "description": "Too many attempts; see Retry-After"}
}
BAD_TOKEN: Responses = {
    400: {"model": Problem, "description": "The token is unknown, used, expired or outdated"}
}
TOO_MANY = "Too many attempts; try again later"

_PASSWORD = select(col(User.password_hash)).where(col(User.id) == bindparam("id"))
# Compare-and-set on the old hash: a concurrent change wins once. Every other session ends in
# the same statement; the caller's (`keep`, the access token's `sid`) stays.
_CHANGE_PASSWORD = text("""
    WITH changed AS (
        UPDATE users SET password_hash = :new_hash, updated_at = now()
        WHERE id = :user_id AND password_hash = :old_hash
        RETURNING id
    ), ended AS (
        UPDATE refresh_tokens SET revoked_at = now()
        WHERE user_id IN (SELECT id FROM changed) AND revoked_at IS NULL
            AND family_id IS DISTINCT FROM CAST(:keep AS text)
    )
    SELECT id FROM changed
""")
# One statement reads the old email (the self-join sees the row before the update) and writes
# the new values; an email changed other than in case is unverified.
_UPDATE_ME = text("""
    UPDATE users AS u SET
        name = CASE WHEN :set_name THEN CAST(:name AS text) ELSE old.name END,
        email = coalesce(CAST(:email AS text), old.email),
        email_verified_at = CASE
            WHEN lower(coalesce(CAST(:email AS text), old.email)) = lower(old.email)
            THEN old.email_verified_at END,
        updated_at = now()
    FROM users AS old
    WHERE u.id = :id AND old.id = u.id
    RETURNING u.id, u.email, u.name, u.email_verified_at IS NOT NULL AS email_verified,
        u.created_at, old.email AS old_email
""")


def _local_only(request: Request) -> None:
    if local_claims(request) is None:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "This account is managed by Better Auth: change its password and email there",
        )


def add_routes(router: APIRouter, config: AuthSettings, passwords: Passwords, outbox: Post) -> None:
    """Add the account routes to auth's router (only with `local_accounts`)."""
    if not config.local_accounts:
        return

    async def throttled(db: DB, keys: throttle.Keys) -> None:
        await throttle.attempt(db, config, keys, TOO_MANY)

    @router.post(
        "/password-reset",
        status_code=status.HTTP_202_ACCEPTED,
        response_class=Response,  # no body: nothing to tell
        responses=THROTTLED,
        summary="Ask for a password reset link",
        description="Mails a single-use link to reset the password, valid for 30 minutes, when "
        "a local account has this email. Always a 202, after the same work whether or not "
        "there is one: the answer tells nobody whether an account exists.",
    )
    @public
    async def password_reset(body: PasswordResetRequest, request: Request, db: DB) -> Response:
        await throttled(db, throttle.Keys.of(body.email, client_of(request).address, "reset"))
        # The same statement either way; the job (or the logging outbox) finds the account.
        await outbox(db, letters.RESET, {"email": body.email})
        return Response(status_code=status.HTTP_202_ACCEPTED)

    @router.post(
        "/password-reset/confirm",
        status_code=status.HTTP_204_NO_CONTENT,
        responses=BAD_TOKEN,
        summary="Set a new password with a reset link's token",
        description="Sets the password and ends every session of the account (their refresh "
        "tokens are refused). The token works once; a used or expired one, or one issued "
        "before the password or email last changed, is a 400.",
    )
    @public
    async def password_reset_confirm(body: PasswordReset, db: DB) -> Response:
        # Hashed first, so that the token is checked and used in the statement that sets it.
        new_hash = await passwords.hash(body.password)
        if not await account_tokens.reset(db, body.token, new_hash):
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "Invalid or expired reset token")
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.post(
        "/verify-email",
        status_code=status.HTTP_202_ACCEPTED,
        response_class=Response,  # no body: nothing to tell
        responses=BETTER_AUTH | THROTTLED,
        summary="Mail a link to confirm your email",
        description="Mails a single-use link, valid for 24 hours, to your account's email; "
        "nothing is sent when it is verified already.",
    )
    async def verify_email(user: CurrentUser, request: Request, db: DB) -> Response:
        _local_only(request)
        await throttled(db, throttle.Keys.of_user(user.id, client_of(request).address, "verify"))
        await outbox(db, letters.VERIFY, {"user_id": user.id})
        return Response(status_code=status.HTTP_202_ACCEPTED)

    @router.post(
        "/verify-email/confirm",
        status_code=status.HTTP_204_NO_CONTENT,
        responses=BAD_TOKEN,
        summary="Confirm an email with a verification link's token",
        description="Marks the email the link was sent to as verified. The token works once; a "
        "used or expired one, or one sent to an email the account no longer has, is a 400.",
    )
    @public
    async def verify_email_confirm(body: EmailConfirmation, db: DB) -> Response:
        if not await account_tokens.verify(db, body.token):
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST, "Invalid or expired verification token"
            )
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.post(
        "/password",
        status_code=status.HTTP_204_NO_CONTENT,
        responses=Responses(
            {
                400: {"model": Problem, "description": "The current password is wrong"},
                409: {"model": Problem, "description": "The password changed meanwhile"},
            }
        )
        | BETTER_AUTH
        | THROTTLED,
        summary="Change your password",
        description="Changes the password when `current_password` is right, and ends every "
        "other session of yours (this one stays). Attempts are counted as logins are.",
    )
    async def change_password(
        body: PasswordChange, user: CurrentUser, request: Request, db: DB
    ) -> Response:
        _local_only(request)
        keys = throttle.Keys.of_user(user.id, client_of(request).address, "password")
        await throttled(db, keys)
        old_hash = await db.fetchval(_PASSWORD, id=user.id)
        valid, _ = await passwords.verify(body.current_password, old_hash)
        if not valid:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "The current password is wrong")
        changed = await db.fetchval(
            _CHANGE_PASSWORD,
            user_id=user.id,
            old_hash=old_hash,
            new_hash=await passwords.hash(body.new_password),
            keep=session_of(request),
            retry=False,  # applied twice, the second would find the old hash gone: a 409
        )
        if changed is None:
            raise HTTPException(
                status.HTTP_409_CONFLICT, "The password was changed meanwhile; try again"
            )
        await throttle.clear(db, keys)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.patch(
        "/me",
        response_model=UserOut,
        responses=Responses(
            {
                404: {"description": "The account was deleted"},
                409: {"model": Problem, "description": "Another account has this email"},
            }
        )
        | BETTER_AUTH,
        summary="Change your name or email",
        description="Changes the fields sent. A new email is unverified until the link mailed "
        "to it is opened, and the old address is told of the change.",
    )
    async def update_me(
        user: CurrentUser, request: Request, db: DB, body: Annotated[AccountUpdate, Body()]
    ) -> Response:
        _local_only(request)
        try:
            # One transaction: the old address is told exactly when the change is made.
            async with db.transaction() as transaction:
                found = await transaction.fetchrow(
                    _UPDATE_ME,
                    id=user.id,
                    set_name="name" in body.model_fields_set,
                    name=body.name,
                    email=body.email,
                )
                old, new = (found["old_email"], found["email"]) if found else (None, None)
                if old is not None and new is not None and old.lower() != new.lower():
                    told = {"old_email": old, "new_email": new}
                    await outbox(transaction, letters.EMAIL_CHANGED, told)
                    await outbox(transaction, letters.VERIFY, {"user_id": user.id})
        except asyncpg.UniqueViolationError:
            raise HTTPException(
                status.HTTP_409_CONFLICT, "An account with this email already exists"
            ) from None
        return json_response(UserOut.model_validate(dict(one_or_404(found, "User"))))
