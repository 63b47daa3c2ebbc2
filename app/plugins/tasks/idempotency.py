"""Task: T-038
Spec: specs/api/rest-endpoints.md §Tasks

`Idempotency-Key` on `POST /tasks`: the first response to a key is stored with a hash of the
request body and replayed to every retry for 24 hours; the same key with another body is a 422
(the kernel's `app.core.idempotency` validates the header, hashes and replays).

The key is claimed and the task inserted by one statement (`queries.CREATE_ONCE`), so a fresh
key costs one round trip and a retry two (the claim that finds the key taken, then the stored
response). Requests racing with one key are serialised by the key's unique index: the second
waits for the first to commit. Expired keys are purged in the background (`purge_forever`), not
on the way of a request.
"""

import asyncio
import logging

from sqlalchemy import text

from app.core import KEEP_KEYS_FOR, Database

logger = logging.getLogger("todo_api")
PURGE_EVERY_SECONDS = 600
# Plain SQL, on purpose outside the per-user scoping: expired keys of every user, a batch at a
# time, skipping rows another instance is already deleting.
_PURGE = text(
    "DELETE FROM task_idempotency_keys WHERE ctid IN ("
    " SELECT ctid FROM task_idempotency_keys"
    " WHERE created_at < now() - make_interval(hours => :hours)"
    " LIMIT 1000 FOR UPDATE SKIP LOCKED)"
)


async def purge(database: Database) -> None:
    """Delete (a batch of) expired keys, every user's."""
    await database.execute(_PURGE, hours=KEEP_KEYS_FOR.total_seconds() / 3600)


async def purge_forever(database: Database) -> None:
    """Delete expired keys now and then, for as long as the app runs."""
    while True:
        try:
            await purge(database)
        except Exception:  # a purge that fails is tried again next time; never fatal
            logger.warning("could not purge expired idempotency keys", exc_info=True)
        await asyncio.sleep(PURGE_EVERY_SECONDS)
