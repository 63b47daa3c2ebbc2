"""Task: T-279
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
    return orjson.dumps(body, default=_fallback, option=OPTIONS)


def json_response(
    body: object, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """An `application/json` answer of `body`; the route's `response_model=` documents it."""
    return Response(json_bytes(body), status_code, headers, "application/json")
