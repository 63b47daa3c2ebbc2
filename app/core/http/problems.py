"""Task: T-010, T-154, T-311
Spec: specs/api/rest-endpoints.md §Errors; specs/features/plugins.md §Database

Every error as RFC 9457 problem details (`application/problem+json`).
"""

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import asyncpg
from fastapi import FastAPI, Request, params
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.types import Scope

from app.core.db.ownership import FORBIDDEN_SQLSTATE, OWNER_KEY_SUFFIX
from app.core.db.pool import DatabaseUnavailable
from app.core.http.documented import documented

logger = logging.getLogger("todo_api")

MEDIA_TYPE = "application/problem+json"
JSON = "application/json"
REQUEST_ID_HEADER = "X-Request-ID"
MAX_ERRORS = 20
# Two writes of one user that got in each other's way: a deadlock (40P01; PostgreSQL broke it
# by rolling this transaction back) or a serialization failure (40001). The failed statement or
# transaction was rolled back whole, so the same request sent again is safe and will most
# likely pass. The kernel cannot retry it itself: a transaction is the route's own code.
CONFLICTS: tuple[type[asyncpg.PostgresError], ...] = (
    asyncpg.DeadlockDetectedError,
    asyncpg.SerializationError,
)
# A location names the caller's field, which may be an unknown key of any length: cut it.
MAX_LOCATION_PART = 64


_FIELD_ERROR_EXAMPLE = {"loc": ["body", "title"], "msg": "Field required", "type": "missing"}


class FieldError(BaseModel):
    """One thing wrong with a request."""

    model_config = documented(_FIELD_ERROR_EXAMPLE)

    loc: list[str | int]
    """Where: `body`, `query`, `header` or `path`, then the field (and list index)."""
    msg: str
    """What is wrong, in English."""
    type: str
    """The kind of mistake, stable for programs: `missing`, `string_too_long`, …"""


# What the first example of each problem model lacks, for its fields' own examples.
_MORE_EXAMPLES = {
    "errors": [_FIELD_ERROR_EXAMPLE],
    "request_id": "4bf92f3577b34da6a3ce929d0e0e4736",
}


class Problem(BaseModel):
    """The body of every error response (RFC 9457 problem details)."""

    model_config = documented(
        {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "Task not found"},
        _MORE_EXAMPLES,
    )

    type: str = "about:blank"
    """Always `about:blank`: the status says what kind of problem it is."""
    title: str
    """The status's reason phrase."""
    status: int
    """The HTTP status code, as in the response's status line."""
    detail: str
    """What went wrong, in a sentence safe to show to a user."""
    errors: list[FieldError] | None = None
    """On a 422: each mistake, at most 20."""
    request_id: str | None = None
    """On a 500: the id to quote when reporting it (also in `X-Request-ID`)."""


class ValidationProblem(Problem):
    """The body of a 422: a problem that lists what is wrong."""

    model_config = documented(
        {
            "type": "about:blank",
            "title": "Unprocessable Content",
            "status": 422,
            "detail": "Invalid request: body.title: Field required",
            "errors": [_FIELD_ERROR_EXAMPLE],
        },
        _MORE_EXAMPLES,
    )

    errors: list[FieldError] = Field(min_length=1)
    """Each mistake, at most 20; `detail` says how many more there were."""


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


def invalid(
    loc: tuple[str | int, ...], msg: str, type: str = "value_error"
) -> RequestValidationError:
    """A 422 about one field, rendered like pydantic's own (`raise invalid(("query", "limit"),
    "must be at most 500")`): a plugin's checks beyond its models name what they refused."""
    return RequestValidationError([{"loc": loc, "msg": msg, "type": type}])


def from_http_exception(exc: HTTPException) -> JSONResponse:
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    if exc.status_code == 422:  # the contract promises every 422 its errors
        errors = [FieldError(loc=[], msg=detail, type="value_error")]
        return problem(422, detail, exc.headers, errors=errors)
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
    if found and _unparseable(found[0]):
        return problem(400, f"The request body is not valid JSON: {found[0]['ctx']['error']}")
    if any(e["loc"][:1] == ("body",) for e in found) and _not_sent_as_json(request):
        given = request.headers.get("content-type")
        return problem(
            415,
            f"Send the body as JSON with `Content-Type: {JSON}` "
            f"({f'not {given!r}' if given else 'no Content-Type was sent'})",
        )
    errors = [
        FieldError(loc=_location(e["loc"]), msg=e["msg"], type=e["type"])
        for e in found[:MAX_ERRORS]
    ]
    summary = "; ".join(f"{'.'.join(map(str, e.loc))}: {e.msg}" for e in errors[:3])
    left_out = len(found) - len(errors)
    more = f" ({left_out} more errors not listed)" if left_out else ""
    return problem(422, f"Invalid request: {summary}{more}", errors=errors)


def _not_sent_as_json(request: Request) -> bool:
    """A JSON route's body arrived with another or no `Content-Type` (FastAPI then leaves it
    unparsed, as bytes)."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or route.body_field is None:
        return False
    if isinstance(route.body_field.field_info, params.Form):
        return False
    if request.headers.get("content-length", "0") == "0" and (
        "transfer-encoding" not in request.headers
    ):
        return False  # no body at all: a missing body is a field's mistake (422)
    given = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return not (given == JSON or (given.startswith("application/") and given.endswith("+json")))


def _unparseable(error: Any) -> bool:
    # FastAPI reports a body it could not parse as JSON as a validation error at ("body", pos).
    return error["type"] == "json_invalid" and error["loc"][0] == "body" and len(error["loc"]) == 2


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


async def _conflict(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CONFLICTS)
    logger.warning(
        "write conflict in %s %s: %s", request.method, request.url.path, type(exc).__name__
    )
    return problem(
        503,
        "A concurrent write to the same data conflicted with this request, which was not "
        "applied; retry shortly",
        headers={"Retry-After": str(DatabaseUnavailable.retry_after_seconds)},
    )


async def _foreign_key(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, asyncpg.ForeignKeyViolationError)
    # Owned rows reference users(id) through `<table>_user_id_fkey` (`owner_column`): the user
    # behind a still-valid token has been deleted.
    if (exc.constraint_name or "").endswith(OWNER_KEY_SUFFIX):
        return problem(401, "Unknown user", headers={"WWW-Authenticate": "Bearer"})
    return unexpected(request.scope, exc)


async def _unknown_state(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, asyncpg.UnknownPostgresError)
    # A statement refused for the caller's role (an `Access`'s SQL raised it: the tasks
    # plugin's `todo_api_permitted`, for a member whose role is too low). The message is the
    # role it needed, nothing of the row.
    if exc.sqlstate == FORBIDDEN_SQLSTATE:
        role = str(getattr(exc, "message", "") or "")
        return problem(403, f"Your role does not allow this; it needs the {role!r} role")
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
    for conflict in CONFLICTS:
        app.add_exception_handler(conflict, _conflict)
    app.add_exception_handler(asyncpg.ForeignKeyViolationError, _foreign_key)
    app.add_exception_handler(asyncpg.UnknownPostgresError, _unknown_state)
