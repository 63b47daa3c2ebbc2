"""Task: T-111
Spec: specs/features/plugins.md §Conventions

`Idempotency-Key` for a plugin's creates: the header, validated (`IdempotencyKeyHeader`), the
hash that tells "the same request again" from "another request with the same key"
(`request_hash`), and the replay of a stored first response (`replay_stored`).

Where the first response is kept is the plugin's own table, claimed in the same statement as
the write (the tasks plugin's `CREATE_ONCE` shows how), so a fresh key costs no extra round trip.
"""

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Header, HTTPException, status
from fastapi.responses import JSONResponse

from app.core.conventions import utcnow

if TYPE_CHECKING:
    from asyncpg import Record

KEEP_KEYS_FOR = timedelta(hours=24)
MAX_KEY_LENGTH = 255
REPLAYED_HEADER = "Idempotent-Replayed"


def request_hash(body: Mapping[str, Any]) -> str:
    """Hash of the request as validated, so whitespace or key order are not "another body"."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


async def _idempotency_key(idempotency_key: Annotated[str | None, Header()] = None) -> str | None:
    if idempotency_key is not None and (
        not 1 <= len(idempotency_key) <= MAX_KEY_LENGTH or not idempotency_key.isprintable()
    ):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters",
        )
    return idempotency_key


# The request's `Idempotency-Key` header (None when absent); a malformed one is a 422.
IdempotencyKeyHeader = Annotated[str | None, Depends(_idempotency_key)]


def replay_stored(
    stored: "Record | Mapping[str, Any] | None",
    request_hash: str,
    keep_for: timedelta = KEEP_KEYS_FOR,
) -> JSONResponse:
    """The stored first response to a key a claim just found taken: `stored` holds its
    `request_hash`, `status_code`, `body`, `headers` and `created_at` (None: purged since).
    Another body under the same key is a 422; a key that expired meanwhile a 409."""
    if stored is None or _expired(stored["created_at"], keep_for):
        # Purged or expired between the claim and this read: rare enough to ask for a retry.
        raise HTTPException(status.HTTP_409_CONFLICT, "Idempotency-Key expired just now; retry")
    if stored["request_hash"] != request_hash:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "Idempotency-Key was already used with a different request body",
        )
    headers = {**stored["headers"], REPLAYED_HEADER: "true"}
    return JSONResponse(stored["body"], stored["status_code"], headers)


def _expired(created_at: datetime, keep_for: timedelta) -> bool:
    return created_at < utcnow() - keep_for
