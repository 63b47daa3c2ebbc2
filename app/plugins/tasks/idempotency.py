"""Task: T-038
Spec: specs/api/rest-endpoints.md §Tasks

`Idempotency-Key` on `POST /tasks`: the first response to a key is stored with a hash of the
request body and replayed to every retry for 24 hours; the same key with another body is a 422
(the kernel's `app.core.http.idempotency` validates the header, hashes and replays).

The key is claimed and the task inserted by one statement (`queries.CREATE_ONCE`), so a fresh
key costs one round trip and a retry two (the claim that finds the key taken, then the stored
response). Requests racing with one key are serialised by the key's unique index: the second
waits for the first to commit. Expired keys are purged by a periodic job (the jobs plugin's,
when it is enabled; without it an expired key is only ever taken over by its next claim), never
on the way of a request.
"""

from sqlalchemy import text

from app.core import KEEP_KEYS_FOR, Database

EVERY_TEN_MINUTES = "*/10 * * * *"
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
