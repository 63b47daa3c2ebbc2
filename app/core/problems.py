"""Task: T-010
Spec: specs/api/rest-endpoints.md §Errors

Every error as RFC 9457 problem details (`application/problem+json`): `type`, `title`,
`status`, `detail` (always a string). A 422 adds `errors`, each with the field's location and
message but never the submitted `input`, which could be a password or a token. An unexpected
exception becomes a 500 carrying only a request id; the trace goes to the log under that id.
A database that cannot be reached is a 503 with `Retry-After`, never a 500, and a write for a
user who no longer exists (their token outlived the account) is a 401.
"""

import logging
import uuid
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.pool import DatabaseUnavailable

logger = logging.getLogger("todo_api")

MEDIA_TYPE = "application/problem+json"
REQUEST_ID_HEADER = "X-Request-ID"


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """The body of every error response."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None
    request_id: str | None = None


def problem(
    status: int, detail: str, headers: Mapping[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = Problem(title=HTTPStatus(status).phrase, status=status, detail=detail, **extra)
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        headers=headers,
        media_type=MEDIA_TYPE,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    return problem(exc.status_code, detail, exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [FieldError(loc=list(e["loc"]), msg=e["msg"], type=e["type"]) for e in exc.errors()]
    summary = "; ".join(f"{'.'.join(map(str, e.loc))}: {e.msg}" for e in errors[:3])
    return problem(422, f"Invalid request: {summary}", errors=errors)


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DatabaseUnavailable)
    logger.warning(
        "database unavailable in %s %s: %s",
        request.method,
        request.url.path,
        type(exc.__cause__).__name__,
    )
    return problem(
        503,
        "The database is unavailable; retry shortly",
        headers={"Retry-After": str(exc.retry_after_seconds)},
    )


async def _foreign_key(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, asyncpg.ForeignKeyViolationError)
    # Owned rows reference users(id) through `<table>_user_id_fkey` (the migrations' default
    # name): the user behind a still-valid token has been deleted.
    if (exc.constraint_name or "").endswith("_user_id_fkey"):
        return problem(401, "Unknown user", headers={"WWW-Authenticate": "Bearer"})
    return await _unexpected(request, exc)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    request_id = request.scope.get("request_id", "-")
    logger.error(
        "unhandled error in %s %s [request %s]",
        request.method,
        request.url.path,
        request_id,
        exc_info=exc,
    )
    return problem(
        500,
        f"Internal server error; quote request id {request_id} when reporting it",
        headers={REQUEST_ID_HEADER: request_id},
        request_id=request_id,
    )


class RequestId:
    """Give every request an id (the response's `X-Request-ID`) for logs and 500 answers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = scope["request_id"] = uuid.uuid4().hex

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (REQUEST_ID_HEADER.lower().encode(), request_id.encode()),
                ]
            await send(message)

        await self.app(scope, receive, send_with_id)


def install(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(DatabaseUnavailable, _unavailable)
    app.add_exception_handler(asyncpg.ForeignKeyViolationError, _foreign_key)
    app.add_exception_handler(Exception, _unexpected)
    app.add_middleware(RequestId)
