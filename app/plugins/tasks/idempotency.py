"""Task: T-038, T-154
Spec: specs/api/rest-endpoints.md §Tasks

`Idempotency-Key` on `POST /tasks`: the first response to a key is stored with a hash of the
request body and replayed to every retry for 24 hours; the same key with another body is a 422.

The key is claimed and the task inserted by one statement (`queries.CREATE_ONCE`), so a fresh
key costs one round trip and a retry two (the claim that finds the key taken, then the stored
response). Requests racing with one key are serialised by the key's unique index: the second
waits for the first to commit. Expired keys are purged in the background (`purge_forever`), not
on the way of a request.
"""

import asyncio
import hashlib
import json
import logging
from datetime import timedelta
from typing import Any

from fastapi import HTTPException, status
from fastapi.exceptions import RequestValidationError
from sqlalchemy import text

from app.core import Database, Executor, invalid
from app.plugins.tasks.models import utcnow
from app.plugins.tasks.queries import STORED_RESPONSE

logger = logging.getLogger("todo_api")
KEEP_FOR = timedelta(hours=24)
MAX_KEY_LENGTH = 255
PURGE_EVERY_SECONDS = 600
REPLAYED_HEADER = "Idempotent-Replayed"
# Plain SQL, on purpose outside the per-user scoping: expired keys of every user, a batch at a
# time, skipping rows another instance is already deleting.
_PURGE = text(
    "DELETE FROM task_idempotency_keys WHERE ctid IN ("
    " SELECT ctid FROM task_idempotency_keys"
    " WHERE created_at < now() - make_interval(hours => :hours)"
    " LIMIT 1000 FOR UPDATE SKIP LOCKED)"
)


def body_hash(body: dict[str, Any]) -> str:
    """Hash of the request as validated, so whitespace or key order are not "another body"."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def _invalid(msg: str) -> RequestValidationError:
    return invalid(("header", "Idempotency-Key"), msg)


def check_key(key: str) -> None:
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise _invalid(f"must be 1 to {MAX_KEY_LENGTH} printable characters")


async def stored_response(
    db: Executor, key: str, request_hash: str
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """The first response to `key` (which a claim just found taken and live)."""
    stored = await db.fetchrow(STORED_RESPONSE, key=key)
    if stored is None or stored["created_at"] < utcnow() - KEEP_FOR:
        # Purged or expired between the claim and this read: rare enough to ask for a retry.
        raise HTTPException(status.HTTP_409_CONFLICT, "Idempotency-Key expired just now; retry")
    if stored["request_hash"] != request_hash:
        raise _invalid("was already used with a different request body")
    headers = stored["headers"] | {REPLAYED_HEADER: "true"}
    return stored["status_code"], stored["body"], headers


async def purge(database: Database) -> None:
    """Delete (a batch of) expired keys, every user's."""
    await database.execute(_PURGE, hours=KEEP_FOR.total_seconds() / 3600)


async def purge_forever(database: Database) -> None:
    """Delete expired keys now and then, for as long as the app runs."""
    while True:
        try:
            await purge(database)
        except Exception:  # a purge that fails is tried again next time; never fatal
            logger.warning("could not purge expired idempotency keys", exc_info=True)
        await asyncio.sleep(PURGE_EVERY_SECONDS)
