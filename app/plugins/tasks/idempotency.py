"""Task: T-038
Spec: specs/api/rest-endpoints.md §Tasks

`Idempotency-Key` on `POST /tasks`: the first response to a key is stored with a hash of the
request body and replayed to every retry for 24 hours; the same key with another body is a 422.

Requests with the same key are serialised by a transaction-level advisory lock on (user, key),
taken before looking the key up: a concurrent duplicate waits for the first request to commit,
then finds its stored response. The (user_id, key) primary key is the backstop. A
transaction-level lock, because a session-level one is unsafe behind Neon's pooler.
"""

import hashlib
import json
from datetime import timedelta
from typing import Any

from fastapi import HTTPException, status
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.plugins.tasks.models import IdempotencyKey, utcnow

KEEP_FOR = timedelta(hours=24)
MAX_KEY_LENGTH = 255
_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))")
# Plain SQL, on purpose outside the per-user scoping: expired keys of every user are purged a
# few at a time by whoever passes by, skipping rows another request is already deleting.
_PURGE = text(
    "DELETE FROM task_idempotency_keys WHERE ctid IN ("
    " SELECT ctid FROM task_idempotency_keys"
    " WHERE created_at < now() - make_interval(hours => :hours)"
    " LIMIT 100 FOR UPDATE SKIP LOCKED)"
)


def body_hash(body: dict[str, Any]) -> str:
    """Hash of the request as validated, so whitespace or key order are not "another body"."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def check_key(key: str) -> None:
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters",
        )


async def replay(
    session: AsyncSession, user_id: str, key: str, request_hash: str
) -> JSONResponse | None:
    """Lock the key for this transaction; the stored first response, if there is a live one."""
    await session.execute(_LOCK, {"name": f"tasks-idempotency:{user_id}:{key}"})
    await session.execute(_PURGE, {"hours": KEEP_FOR.total_seconds() / 3600})
    stored = await session.get(IdempotencyKey, (user_id, key), populate_existing=True)
    if stored is None:
        return None
    if stored.created_at < utcnow() - KEEP_FOR:  # expired but not purged yet: forget it
        await session.delete(stored)
        await session.flush()
        return None
    if stored.request_hash != request_hash:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "Idempotency-Key was already used with a different request body",
        )
    return JSONResponse(stored.body, status_code=stored.status_code, headers=stored.headers)


def remember(
    session: AsyncSession,
    key: str,
    request_hash: str,
    status_code: int,
    body: dict[str, Any],
    headers: dict[str, str],
) -> None:
    session.add(
        IdempotencyKey(
            key=key, request_hash=request_hash, status_code=status_code, body=body, headers=headers
        )
    )
