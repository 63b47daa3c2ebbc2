"""Task: T-010
Spec: specs/api/rest-endpoints.md §Errors

Every error as RFC 9457 problem details (`application/problem+json`): `type`, `title`,
`status`, `detail` (always a string). A 422 adds `errors`, each with the field's location and
message but never the submitted `input`, which could be a password or a token; at most
`MAX_ERRORS` of them, so a request with thousands of mistakes gets a small answer. An unexpected
exception becomes a 500 carrying only a request id; the trace goes to the log under that id
(rendered by the edge, `app.core.edge`, which also gives every request that id). A database
that cannot be reached is a 503 with `Retry-After`, never a 500, and a write for a user who no
longer exists (their token outlived the account) is a 401.
"""

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.types import Scope

from app.core.pool import DatabaseUnavailable

logger = logging.getLogger("todo_api")

MEDIA_TYPE = "application/problem+json"
REQUEST_ID_HEADER = "X-Request-ID"
MAX_ERRORS = 20
# A location names the caller's field, which may be an unknown key of any length: cut it.
MAX_LOCATION_PART = 64


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


def from_http_exception(exc: HTTPException) -> JSONResponse:
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    return problem(exc.status_code, detail, exc.headers)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return from_http_exception(exc)


def _location(loc: tuple[str | int, ...]) -> list[str | int]:
    return [
        part[:MAX_LOCATION_PART] + "…"
        if isinstance(part, str) and len(part) > MAX_LOCATION_PART
        else part
        for part in loc
    ]


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    found = exc.errors()
    errors = [
        FieldError(loc=_location(e["loc"]), msg=e["msg"], type=e["type"])
        for e in found[:MAX_ERRORS]
    ]
    summary = "; ".join(f"{'.'.join(map(str, e.loc))}: {e.msg}" for e in errors[:3])
    left_out = len(found) - len(errors)
    more = f" ({left_out} more errors not listed)" if left_out else ""
    return problem(422, f"Invalid request: {summary}{more}", errors=errors)


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
    return unexpected(request.scope, exc)


def unexpected(scope: Scope, exc: Exception) -> JSONResponse:
    """The answer to an exception nothing handled: the trace to the log, an id to the client."""
    request_id = scope.get("request_id", "-")
    logger.error(
        "unhandled error in %s %s [request %s]",
        scope["method"],
        scope["path"],
        request_id,
        exc_info=exc,
    )
    return problem(
        500,
        f"Internal server error; quote request id {request_id} when reporting it",
        request_id=request_id,
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    # Class-keyed, so they run inside the edge: an Exception (500) handler would be Starlette's
    # outermost ServerErrorMiddleware, outside CORS; the edge renders the 500 itself.
    app.add_exception_handler(DatabaseUnavailable, _unavailable)
    app.add_exception_handler(asyncpg.ForeignKeyViolationError, _foreign_key)
