"""Task: T-132
Spec: specs/api/rest-endpoints.md §Changes

The change log's statements, each built once.

The feed's statements go through `OwnedDB`: the kernel scopes them to the caller. The
watermark is `pg_snapshot_xmin(pg_current_snapshot())`, the oldest transaction still running
when the statement started: every transaction before it has ended, and none can start before
it, so the changes of transactions older than it are final and may be handed out; later ones
wait, even if they committed first. The other statements work across users (the poller, the
after-commit consumers, the purge) and are plain SQL through the unscoped `DB` on purpose.
"""

from sqlalchemy import BigInteger, Text, bindparam, cast, exists, false, func, select, text, true
from sqlalchemy import tuple_ as row
from sqlmodel import col

from app.plugins.changes.models import ChangeEntry, Horizon

WATERMARK_SQL = "pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
AFTER_XID = bindparam("after_xid", type_=BigInteger)
AFTER_SEQ = bindparam("after_seq", type_=BigInteger)

_watermark = select(
    cast(cast(func.pg_snapshot_xmin(func.pg_current_snapshot()), Text), BigInteger).label("xmin")
).cte("watermark")
_after = row(col(ChangeEntry.xid), col(ChangeEntry.seq)) > row(AFTER_XID, AFTER_SEQ)
_page = (
    select(
        col(ChangeEntry.xid),
        col(ChangeEntry.seq),
        col(ChangeEntry.entity),
        col(ChangeEntry.entity_id),
        col(ChangeEntry.op),
        col(ChangeEntry.version),
        col(ChangeEntry.data),
        col(ChangeEntry.at),
    )
    .where(_after, col(ChangeEntry.xid) < _watermark.c.xmin)
    .order_by(col(ChangeEntry.xid), col(ChangeEntry.seq))
    .limit(bindparam("limit"))
    .lateral("page")
)
# The caller's next changes (one row each), or one row of NULLs when there are none; every
# row also carries the watermark, whether more of the caller's changes are still in flight
# (`pending`: written by transactions not yet behind the watermark), and whether the purge has
# gone past the cursor (`expired`).
PAGE = select(
    _watermark.c.xmin,
    exists().where(_after, col(ChangeEntry.xid) >= _watermark.c.xmin).label("pending"),
    func.coalesce(
        select(
            row(col(Horizon.xid), col(Horizon.seq)) > row(AFTER_XID, AFTER_SEQ)
        ).scalar_subquery(),
        false(),
    ).label("expired"),
    *_page.c,
).select_from(_watermark.outerjoin(_page, true()))

WATERMARK = select(_watermark.c.xmin)

# Which users have changes that passed the watermark since the last poll (`since` is the
# watermark the last poll saw): one statement per interval, whatever the number of streams.
POLL = text(
    f"SELECT {WATERMARK_SQL} AS xmin, ARRAY(SELECT DISTINCT user_id FROM changes"
    f" WHERE xid >= :since AND xid < {WATERMARK_SQL}) AS users"
)

# After-commit consumers. A new consumer starts at the watermark (it is not fed the past).
CONSUMER_START = text(
    f"INSERT INTO change_consumers (name, xid, seq) VALUES (:name, {WATERMARK_SQL}, 0)"
    " ON CONFLICT (name) DO NOTHING"
)
# The consumer's position, claimed for this transaction, with the watermark and whether any
# change waits behind it (`pending`: a transaction that wrote is still open, and will commit
# without a second notification); an instance that finds it claimed by
# another gets nothing and skips the batch (as FOR UPDATE SKIP LOCKED would). A transaction-level
# advisory lock rather than FOR UPDATE: locking a row gives the transaction an id at once, and
# an open transaction with an id holds every feed's watermark back while it reads; this one
# takes an id only when the handler writes, or when it moves the cursor just before COMMIT.
# Also: the end of the last failed batch (`isolate_*`), and whether a change set aside waits to
# be retried (`retry`, an index probe): the same round trip.
CONSUMER_LOCK = text(
    f"SELECT xid, seq, {WATERMARK_SQL} AS xmin,"
    f" EXISTS (SELECT FROM changes WHERE xid >= {WATERMARK_SQL}) AS pending,"
    " failures, isolate_xid, isolate_seq,"
    " EXISTS (SELECT FROM change_set_aside WHERE consumer = :name AND retry) AS retry"
    " FROM change_consumers WHERE name = :name"
    " AND pg_try_advisory_xact_lock(hashtext('todo_api.consumer:' || :name))"
)
CONSUMER_READ = text(
    "SELECT xid, seq, user_id, entity, entity_id, op, version, data FROM changes"
    f" WHERE (xid, seq) > (:after_xid, :after_seq) AND xid < {WATERMARK_SQL}"
    " AND entity = ANY(:entities) ORDER BY xid, seq LIMIT :limit"
)
# The cursor moves past what the read looked at: its last change, or, when the read found
# fewer than it asked for, the watermark (everything before it was looked at, entities the
# consumer ignores included, so they are never scanned again).
CONSUMER_ADVANCE = text(
    "UPDATE change_consumers SET xid = :xid, seq = :seq, failures = 0, updated_at = now()"
    " WHERE name = :name"
)
# A batch failed (its transaction rolled back): count the try at the position it started from,
# unless another instance has moved on since, and remember where a batch of several ended, so
# the next tries read one change at a time up to there.
CONSUMER_FAILED = text(
    "UPDATE change_consumers SET failures = failures + 1,"
    " isolate_xid = coalesce(:end_xid, isolate_xid), isolate_seq = coalesce(:end_seq, isolate_seq)"
    " WHERE name = :name AND xid = :xid AND seq = :seq RETURNING failures"
)

# Setting a change aside: the record (what the change names, the error), in the transaction
# that moves the cursor past it. Once per consumer and change.
SET_ASIDE = text(
    "INSERT INTO change_set_aside"
    " (consumer, xid, seq, user_id, entity, entity_id, op, attempts, error_type, error)"
    " VALUES (:consumer, :xid, :seq, :user_id, :entity, :entity_id, :op, :attempts,"
    " :error_type, :error)"
    " ON CONFLICT (consumer, xid, seq) DO UPDATE SET attempts = EXCLUDED.attempts,"
    " error_type = EXCLUDED.error_type, error = EXCLUDED.error, at = now(), retry = false"
)
# The oldest change of the consumer's asked to be retried, with the log's row (none when purged).
RETRY_NEXT = text(
    "SELECT s.id, s.xid, s.seq, s.user_id, s.entity, s.entity_id, s.op, c.version, c.data,"
    " c.xid IS NOT NULL AS kept"
    " FROM change_set_aside s LEFT JOIN changes c ON (c.xid, c.seq) = (s.xid, s.seq)"
    " WHERE s.consumer = :consumer AND s.retry ORDER BY s.id LIMIT 1"
)
SET_ASIDE_DONE = text("DELETE FROM change_set_aside WHERE id = :id")
# A retry failed again: the record stays, with the new error.
SET_ASIDE_FAILED = text(
    "UPDATE change_set_aside SET retry = false, attempts = attempts + 1,"
    " error_type = :error_type, error = :error, at = now() WHERE id = :id"
)
SET_ASIDE_COUNT = text("SELECT count(*) FROM change_set_aside")
SET_ASIDE_LIST = text(
    "SELECT id, consumer, user_id, entity, entity_id, op, attempts, error_type, error, at, retry"
    " FROM change_set_aside ORDER BY id"
)
# Hand it back (`retry`), and wake the consumers: the notification the log's trigger sends.
SET_ASIDE_RETRY = text(
    "WITH marked AS (UPDATE change_set_aside SET retry = true WHERE id = :id RETURNING user_id)"
    " SELECT pg_notify('todo_api_changes', user_id) FROM marked"
)
SET_ASIDE_DROP = text("DELETE FROM change_set_aside WHERE id = :id RETURNING id")

# Changes older than the retention, a batch at a time, and the greatest position deleted.
PURGE = text(
    "WITH gone AS ("
    " DELETE FROM changes WHERE ctid IN ("
    "  SELECT ctid FROM changes WHERE at < now() - make_interval(secs => :seconds)"
    "  LIMIT 5000 FOR UPDATE SKIP LOCKED)"
    " RETURNING xid, seq),"
    " last AS (SELECT xid, seq FROM gone ORDER BY xid DESC, seq DESC LIMIT 1)"
    " INSERT INTO changes_horizon (id, xid, seq) SELECT true, xid, seq FROM last"
    " ON CONFLICT (id) DO UPDATE SET xid = EXCLUDED.xid, seq = EXCLUDED.seq"
    " WHERE (changes_horizon.xid, changes_horizon.seq) < (EXCLUDED.xid, EXCLUDED.seq)"
    " RETURNING xid"
)
