"""Task: T-392, T-393, T-394
Spec: specs/features/authentication.md §Account deletion, §Data export

`DELETE /api/v1/auth/me` and `GET /api/v1/auth/me/export`: an account deleted with everything
every enabled plugin keeps for it, and everything it owns as one JSON document. Both ask the
plugins through this plugin's hooks (`hookspecs`).
"""

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Request, Response, status
from fastapi.responses import StreamingResponse
from sqlalchemy import bindparam, delete, select, tuple_
from sqlalchemy.sql import ColumnElement, Select
from sqlmodel import col

from app.core import (
    DB,
    ConfigError,
    CurrentUser,
    Database,
    Executor,
    caller,
    invalid,
    json_bytes,
    one_or_404,
    utcnow,
)
from app.plugins.auth import personal, refresh, throttle
from app.plugins.auth.account_schemas import Deletion
from app.plugins.auth.bearer import presented_claims
from app.plugins.auth.models import User
from app.plugins.auth.passwords import Passwords
from app.plugins.auth.sessions import client_of
from app.plugins.auth.settings import AuthSettings
from app.plugins.auth.tokens import LOCAL_ISSUER

# A Better Auth user proves they are at the keyboard with a token this fresh (no password here).
FRESH_TOKEN_SECONDS = 300
# Rows per export statement: each page is read, written out and dropped before the next.
EXPORT_PAGE = 1000

Step = Callable[[Executor, str], Awaitable[None]]


@dataclass(frozen=True)
class ExportSection:
    """One array of the data export (a plugin's `account_export` answer): the rows of
    `statement` the user owns (`user_id`, of the key's table), `EXPORT_PAGE` at a time in the
    order of `key`: a column, or columns, unique together, that the statement selects. Each
    page is its own statement (keyset: `(key) > (the last row's)`), so no connection is held
    while the export is sent, and memory holds one page. With an index led by `user_id` and
    ordered by the key, each page is a short range scan."""

    name: str
    statement: Select[Any]
    key: ColumnElement[Any] | tuple[ColumnElement[Any], ...]

    @cached_property
    def _columns(self) -> tuple[Any, ...]:
        return self.key if isinstance(self.key, tuple) else (self.key,)

    @cached_property
    def _first(self) -> Select[Any]:
        # Read at the members' role, which also reaches rows of others shared with the user
        # (an owner-role read would refuse those with a 403): the user's own are these.
        mine = self._columns[0].table.c.user_id == caller()
        return self.statement.where(mine).order_by(*self._columns).limit(EXPORT_PAGE)

    @cached_property
    def _next(self) -> Select[Any]:
        after = [
            bindparam(f"export_after_{n}", type_=column.type)
            for n, column in enumerate(self._columns)
        ]
        return self._first.where(tuple_(*self._columns) > tuple_(*after))

    async def pages(self, db: Executor) -> AsyncIterator[list[Any]]:
        rows = await db.fetch(self._first)
        while rows:
            yield rows
            if len(rows) < EXPORT_PAGE:
                return
            last = {
                f"export_after_{n}": rows[-1][column.name] for n, column in enumerate(self._columns)
            }
            rows = await db.fetch(self._next, **last)


_ID = col(User.id) == bindparam("id")
_ACCOUNT = select(
    col(User.id), col(User.issuer), col(User.email), col(User.name), col(User.created_at)
).where(_ID)
_CREDENTIALS = select(col(User.issuer), col(User.email), col(User.password_hash)).where(_ID)
_DELETE = delete(User).where(_ID).returning(col(User.id))


def _token_age(request: Request) -> float | None:
    """Seconds since the presented token was issued (`iat`; it was verified on the way in)."""
    claims = presented_claims(request)
    issued = claims.get("iat") if claims is not None else None
    if isinstance(issued, bool) or not isinstance(issued, int | float):
        return None
    return time.time() - issued


async def _document(
    db: Database, user_id: str, sections: Sequence[ExportSection]
) -> AsyncIterator[bytes]:
    """The export, piece by piece:
    `{"exported_at", "account", "sessions", "personal_tokens", <section>: […]…}`."""
    account = await db.fetchrow(_ACCOUNT, id=user_id)
    sessions = await db.fetch(refresh.SESSIONS, user_id=user_id)
    tokens = await db.fetch(personal.LIST, user_id=user_id)  # as GET /tokens lists them
    yield b'{"exported_at":' + json_bytes(utcnow()) + b',"account":' + json_bytes(account)
    yield b',"sessions":' + json_bytes(sessions)
    yield b',"personal_tokens":' + json_bytes(tokens)
    owned = db.owned(user_id)
    for section in sections:
        yield b"," + json_bytes(section.name) + b":["
        separator = b""
        async for rows in section.pages(owned):
            yield separator + b",".join(json_bytes(dict(row)) for row in rows)
            separator = b","
        yield b"]"
    yield b"}"


def build_router(
    config: AuthSettings,
    passwords: Passwords,
    before: Sequence[Step],
    after: Sequence[Step],
    sections: Sequence[ExportSection],
    forget: Callable[[str], None],
) -> APIRouter:
    router = APIRouter(prefix="/auth", tags=["auth"])
    names = [section.name for section in sections]
    reserved = {"exported_at", "account", "sessions", "personal_tokens"}
    if len(set(names)) != len(names) or reserved & set(names):
        raise ConfigError(
            f"account_export: sections need distinct names, none of {reserved}: {names}"
        )

    async def confirm(user_id: str, body: Deletion | None, request: Request, db: DB) -> str:
        """The account's email once the caller proved it is them: the password of a local
        account, a fresh token for a Better Auth one. Else a 403 (a 422 with no password)."""
        found = one_or_404(await db.fetchrow(_CREDENTIALS, id=user_id), "User")
        email: str = found["email"] or ""
        if found["issuer"] != LOCAL_ISSUER:
            age = _token_age(request)
            if age is None or age > FRESH_TOKEN_SECONDS:
                raise HTTPException(
                    status.HTTP_403_FORBIDDEN,
                    "Sign in again: deleting the account needs a token issued in the last "
                    f"{FRESH_TOKEN_SECONDS // 60} minutes",
                )
            return email
        if body is None or body.password is None:
            raise invalid(("body", "password"), "required to delete a local account")
        # Counted as a login is: a stolen access token cannot guess the password here either.
        keys = throttle.Keys.of(email, client_of(request).address)
        await throttle.attempt(db, config, keys)
        valid, _ = await passwords.verify(body.password, found["password_hash"])
        if not valid:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "Incorrect password")
        return email

    @router.delete(
        "/me",
        name="delete_me",
        summary="Delete your account and all its data",
        status_code=status.HTTP_204_NO_CONTENT,
        responses={
            403: {"description": "Wrong password, or a Better Auth token older than 5 minutes"},
            404: {"description": "The account was deleted already"},
            429: {"description": "Too many wrong passwords; see Retry-After"},
        },
        description="Deletes the account and everything every plugin keeps for it, in one "
        "transaction. A local account sends its `password`; a Better Auth account sends no "
        "body, with a token issued in the last 5 minutes. Lists you share with editors go to "
        "the longest-standing one; lists shared with viewers only are deleted.",
    )
    async def delete_me(
        user: CurrentUser,
        request: Request,
        db: DB,
        body: Annotated[Deletion | None, Body()] = None,
    ) -> Response:
        email = await confirm(user.id, body, request, db)
        async with db.transaction() as transaction:
            for step in before:
                await step(transaction, user.id)
            # Deleted concurrently: nothing more to do.
            one_or_404(await transaction.fetchval(_DELETE, id=user.id), "User")
            await throttle.forget(transaction, email, user.id)
            for step in after:
                await step(transaction, user.id)
        forget(user.id)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.get(
        "/me/export",
        name="export",
        summary="Export all your data",
        response_class=StreamingResponse,
        responses={
            200: {
                "content": {"application/json": {"schema": {"type": "object"}}},
                "description": "One JSON object: `exported_at`, `account`, `sessions`, and an "
                "array per plugin section (`tasks`, `lists`, …) of the rows you own",
            }
        },
        description="Everything you own, across every enabled plugin, as one JSON document, "
        "sent as it is read (memory stays flat for any amount of data).",
    )
    async def export(user: CurrentUser, db: DB) -> StreamingResponse:
        return StreamingResponse(
            _document(db, user.id, sections),
            media_type="application/json",
            headers={"Content-Disposition": 'attachment; filename="todo-api-export.json"'},
        )

    return router
