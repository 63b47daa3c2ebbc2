"""Task: T-036, T-107, T-154, T-201, T-279
Spec: specs/api/rest-endpoints.md §Tasks

Opaque keyset cursors: base64url JSON of the last row's sort value and id, and a fingerprint
of the filters and sort they belong to, so a cursor reused with other filters is refused.
"""

import base64
import binascii
import hashlib
import json
import uuid
from datetime import datetime
from typing import Any

from fastapi.exceptions import RequestValidationError
from starlette.datastructures import URL

from app.core import Row, invalid, representable
from app.plugins.tasks.filters import Sort, TaskQuery
from app.plugins.tasks.models import Priority


def fingerprint(query: TaskQuery) -> str:
    canonical = json.dumps(query.filter_key(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode(query: TaskQuery, last: Row) -> str:
    """The cursor after `last`, a row of the page."""
    sort = Sort.parse(query.sort)
    value = last[sort.field]
    if isinstance(value, datetime):
        value = value.isoformat()
    payload = {"v": value, "id": last["id"], "f": fingerprint(query)}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _invalid(reason: str) -> RequestValidationError:
    return invalid(("query", "cursor"), f"Invalid cursor: {reason}")


def decode(query: TaskQuery, cursor: str) -> tuple[Any, str]:
    """The (sort value, id) a cursor continues after; 422 when it is not one of ours for
    exactly these filters and this sort."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
        value, task_id, print_ = payload["v"], payload["id"], payload["f"]
    # RecursionError: `[[[[…` nested deeper than the JSON parser goes.
    except (binascii.Error, ValueError, KeyError, TypeError, RecursionError):
        raise _invalid("malformed") from None
    if print_ != fingerprint(query):
        raise _invalid("it belongs to a request with other filters or sort") from None
    # The fingerprint is no signature: anyone may re-encode a cursor, so every value in it is
    # checked as strictly as a request's own before it reaches a statement.
    try:
        return _sort_value(Sort.parse(query.sort), value), str(uuid.UUID(task_id))
    except (TypeError, ValueError, AttributeError):
        raise _invalid("malformed") from None


def _sort_value(sort: Sort, value: Any) -> Any:
    if value is None and sort.field == "due_at":
        return None
    if sort.field in {"created_at", "updated_at", "due_at"}:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive datetime")
        return representable(parsed)
    if sort.field == "priority":
        return Priority(value)
    if not isinstance(value, str) or "\x00" in value:
        raise TypeError("title must be a string PostgreSQL can hold")
    return value


def next_link(url: URL, cursor: str) -> str:
    return f'<{url.include_query_params(cursor=cursor)}>; rel="next"'
