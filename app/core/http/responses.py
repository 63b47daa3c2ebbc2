"""Task: T-279, T-456
Spec: specs/features/plugins.md §Conventions

`json_response(body)`: how every route answers a JSON body, serialised once, straight to bytes.
"""

from collections.abc import Mapping
from typing import Any

import asyncpg
import orjson
from pydantic import BaseModel
from starlette.responses import Response

# Datetimes as `2030-01-02T01:04:05Z`, as pydantic writes an aware UTC datetime.
OPTIONS = orjson.OPT_UTC_Z


def _fallback(value: object) -> Any:
    """What orjson cannot write itself: a response model as FastAPI would write it, a row."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, asyncpg.Record):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def json_bytes(body: object) -> bytes:
    """`body` (mappings, sequences, rows, pydantic models, datetimes) as JSON bytes."""
    if isinstance(body, list) and body and isinstance(body[0], asyncpg.Record):
        # The rows of one statement share their column names: zipped with them once, a row
        # is a dict in a third less time than `dict(row)`, which looks each name up.
        names = tuple(body[0].keys())
        body = [dict(zip(names, row, strict=True)) for row in body]
    return orjson.dumps(body, default=_fallback, option=OPTIONS)


def json_response(
    body: object, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """An `application/json` answer of `body`; the route's `response_model=` documents it."""
    return Response(json_bytes(body), status_code, headers, "application/json")
