"""Task: T-111, T-154, T-279
Spec: specs/features/plugins.md §Conventions

`Idempotency-Key` for a plugin's creates: the header, the request's hash, and the replay.
"""

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Header, HTTPException, status
from fastapi.exceptions import RequestValidationError
from starlette.responses import Response

from app.core.conventions import utcnow
from app.core.http.problems import invalid
from app.core.http.responses import json_response

if TYPE_CHECKING:
    from asyncpg import Record

KEEP_KEYS_FOR = timedelta(hours=24)
MAX_KEY_LENGTH = 255
REPLAYED_HEADER = "Idempotent-Replayed"


def request_hash(body: Mapping[str, Any]) -> str:
    """Hash of the request as validated, so whitespace or key order are not "another body"."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def _invalid(msg: str) -> RequestValidationError:
    return invalid(("header", "Idempotency-Key"), msg)


async def _idempotency_key(
    idempotency_key: Annotated[
        str | None,
        Header(
            description=f"1 to {MAX_KEY_LENGTH} printable characters naming this one intended "
            "creation: a retry with the same key and body within 24 hours gets the first "
            "answer and creates nothing",
            examples=["7c9e6679-7425-40de-944b-e07fc1f90ae7"],
            # Documented, checked below (printable too) with a 422 naming the header.
            json_schema_extra={"minLength": 1, "maxLength": MAX_KEY_LENGTH},
        ),
    ] = None,
) -> str | None:
    if idempotency_key is not None and (
        not 1 <= len(idempotency_key) <= MAX_KEY_LENGTH or not idempotency_key.isprintable()
    ):
        raise _invalid(f"must be 1 to {MAX_KEY_LENGTH} printable characters")
    return idempotency_key


# The request's `Idempotency-Key` header (None when absent); a malformed one is a 422.
IdempotencyKeyHeader = Annotated[str | None, Depends(_idempotency_key)]


def replay_stored(
    stored: "Record | Mapping[str, Any] | None",
    request_hash: str,
    keep_for: timedelta = KEEP_KEYS_FOR,
) -> Response:
    """The stored first response to a key a claim just found taken: `stored` holds its
    `request_hash`, `status_code`, `body`, `headers` and `created_at` (None: purged since).
    Another body under the same key is a 422; a key that expired meanwhile a 409."""
    if stored is None or _expired(stored["created_at"], keep_for):
        # Purged or expired between the claim and this read: rare enough to ask for a retry.
        raise HTTPException(status.HTTP_409_CONFLICT, "Idempotency-Key expired just now; retry")
    if stored["request_hash"] != request_hash:
        raise _invalid("was already used with a different request body")
    headers = {**stored["headers"], REPLAYED_HEADER: "true"}
    return json_response(stored["body"], stored["status_code"], headers)


def _expired(created_at: datetime, keep_for: timedelta) -> bool:
    return created_at < utcnow() - keep_for
