"""Task: T-135, T-205, T-279
Spec: specs/features/plugins.md §Events

After-commit consumers: each `AfterCommit` subscription fed from the change log.

A consumer's position is a row of `change_consumers`, named after it. One batch is one
transaction: claim that row (a transaction-level advisory lock, taken or skipped like `FOR
UPDATE SKIP LOCKED`: an instance finding it claimed leaves the batch to the one holding it),
read the next committed changes of its entities, await the handler with the transaction, move
the position, commit. The handler's writes and the new
position commit together or not at all, so a crash (a killed process, a dropped connection, an
exception) delivers the same changes again: at least once, in log order, one instance at a time.

A change the handler cannot process must not stop the consumer for every user. After a batch
fails, the consumer reads one change at a time up to that batch's end, so the changes beside a
poison one go through; the one that fails alone `consumer_attempts` times in a row is set aside
(a `change_set_aside` record, in the transaction that moves the cursor past it).
"""

import asyncio
import logging
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass

from app.core import Database, DatabaseUnavailable, Row, Transaction, error_summary
from app.plugins.changes.api import AfterCommit, Change
from app.plugins.changes.notifier import Notifier
from app.plugins.changes.queries import (
    CONSUMER_ADVANCE,
    CONSUMER_FAILED,
    CONSUMER_LOCK,
    CONSUMER_READ,
    CONSUMER_START,
    RETRY_NEXT,
    SET_ASIDE,
    SET_ASIDE_DONE,
    SET_ASIDE_FAILED,
)
from app.plugins.changes.settings import ChangesSettings

logger = logging.getLogger("todo_api")

BATCH = 100
MAX_BACKOFF_SECONDS = 30.0
# An idle consumer is woken by notifications; it also looks this often in case one was missed.
IDLE_CHECK_SECONDS = 60.0

Position = tuple[int, int]


@dataclass(frozen=True)
class Progress:
    """What a step did: how many changes it handled, whether it should look again soon
    (changes wait behind an open transaction, or another instance holds the consumer), and
    whether it read all it asked for (more may be there: look again at once)."""

    handled: int
    again_soon: bool
    full: bool = False


class HandlerFailed(Exception):
    """The handler raised on a batch (rolled back): where the batch started, the changes it
    held, and, for a retry of a change set aside, that record's id."""

    def __init__(self, start: Position, rows: Sequence[Row], retried: int | None = None) -> None:
        super().__init__(f"handler failed on {len(rows)} changes")
        self.start = start
        self.rows = rows
        self.retried = retried


def _change(row: Row) -> Change:
    return Change(
        entity=row["entity"],
        id=row["entity_id"],
        op=row["op"],
        version=row["version"],
        user_id=row["user_id"],
        data=row["data"],
    )


async def _handle(
    transaction: Transaction,
    consumer: AfterCommit,
    start: Position,
    rows: Sequence[Row],
    retried: int | None = None,
) -> None:
    """Await the handler; its failure (not the database's) is the batch's, to be counted."""
    try:
        await consumer.handler(transaction, [_change(row) for row in rows])
    except DatabaseUnavailable:
        raise
    except Exception as error:
        raise HandlerFailed(start, rows, retried) from error


async def step(database: Database, consumer: AfterCommit, batch: int = BATCH) -> Progress:
    """Handle one batch of `consumer`'s changes (one change, while isolating a failed batch's
    poison one), or a change set aside that an operator asked to retry."""
    async with database.transaction() as transaction:
        position = await transaction.fetchrow(CONSUMER_LOCK, name=consumer.name)
        if position is None:  # another instance holds it; it may die mid-batch
            return Progress(0, True)
        pending: bool = position["pending"]
        start = (position["xid"], position["seq"])
        if position["retry"]:
            return await _retry(transaction, consumer, start, pending)
        isolate = (position["isolate_xid"], position["isolate_seq"])
        if isolate[0] is not None and start < isolate:
            batch = 1  # inside a batch that failed: one change at a time finds the poison one
        rows = await transaction.fetch(
            CONSUMER_READ,
            after_xid=start[0],
            after_seq=start[1],
            entities=sorted(consumer.entities),
            limit=batch,
        )
        # Fewer changes than asked for: the read saw every change before the watermark taken
        # with the claim (an earlier snapshot than the read's), so the cursor may move there.
        end = (rows[-1]["xid"], rows[-1]["seq"]) if rows else start
        if len(rows) < batch:
            end = max(end, (position["xmin"], 0))
        if end <= start:
            return Progress(0, pending)
        if rows:
            await _handle(transaction, consumer, start, rows)
        await transaction.execute(CONSUMER_ADVANCE, name=consumer.name, xid=end[0], seq=end[1])
        return Progress(len(rows), pending, full=len(rows) == batch)


async def _retry(
    transaction: Transaction, consumer: AfterCommit, start: Position, pending: bool
) -> Progress:
    """Hand a change set aside to the handler once more (`todo-api set-aside retry`): done, its
    record goes in the handler's transaction; failed, it stays (`HandlerFailed.retried`)."""
    row = await transaction.fetchrow(RETRY_NEXT, consumer=consumer.name)
    if row is None:
        return Progress(0, pending, full=True)
    if not row["kept"]:
        raise HandlerFailed(start, [row], row["id"]) from LookupError(
            "the change was purged from the log: drop it"
        )
    await _handle(transaction, consumer, start, [row], row["id"])
    await transaction.execute(SET_ASIDE_DONE, id=row["id"])
    logger.info("after-commit consumer %r handled change set aside #%d", consumer.name, row["id"])
    return Progress(1, pending, full=True)


async def failed(
    database: Database, consumer: AfterCommit, failure: HandlerFailed, attempts: int
) -> bool:
    """Count a failed try; the change that failed alone `attempts` times in a row is set aside
    and the cursor moved past it, in one transaction under the consumer's claim (then True: the
    next changes may go at once). The log and the record carry the error's type and first
    line, never the change's data."""
    cause = failure.__cause__ or failure
    error_type, error = type(cause).__name__, error_summary(str(cause))
    if failure.retried is not None:
        await database.execute(
            SET_ASIDE_FAILED, id=failure.retried, error_type=error_type, error=error
        )
        logger.warning(
            "after-commit consumer %r failed again on change set aside #%d: %s",
            consumer.name,
            failure.retried,
            error_type,
        )
        return False
    rows, start = failure.rows, failure.start
    last = rows[-1]
    several = len(rows) > 1
    tries = await database.fetchval(
        CONSUMER_FAILED,
        name=consumer.name,
        xid=start[0],
        seq=start[1],
        end_xid=last["xid"] if several else None,
        end_seq=last["seq"] if several else None,
    )
    logger.warning(
        "after-commit consumer %r failed on %d changes after position %d.%d (%s, try %s)",
        consumer.name,
        len(rows),
        start[0],
        start[1],
        error_type,
        tries,
    )
    if several or tries is None or tries < attempts:
        return False
    async with database.transaction() as transaction:
        position = await transaction.fetchrow(CONSUMER_LOCK, name=consumer.name)
        if position is None or (position["xid"], position["seq"]) != start:
            return False  # another instance holds it, or has moved past
        await transaction.execute(
            SET_ASIDE,
            consumer=consumer.name,
            xid=last["xid"],
            seq=last["seq"],
            user_id=last["user_id"],
            entity=last["entity"],
            entity_id=last["entity_id"],
            op=last["op"],
            attempts=tries,
            error_type=error_type,
            error=error,
        )
        await transaction.execute(
            CONSUMER_ADVANCE, name=consumer.name, xid=last["xid"], seq=last["seq"]
        )
    logger.error(
        "after-commit consumer %r set aside change %d.%d (%s %s %s of user %s) after %d tries:"
        " %s; see `todo-api set-aside list`",
        consumer.name,
        last["xid"],
        last["seq"],
        last["entity"],
        last["entity_id"],
        last["op"],
        last["user_id"],
        tries,
        error_type,
    )
    return True


async def run(
    database: Database, notifier: Notifier, consumer: AfterCommit, settings: ChangesSettings
) -> None:
    """Feed `consumer` for as long as the app runs."""
    idle_seconds = settings.poll_seconds
    subscription = notifier.subscribe(None)
    started = False
    backoff: float | None = None
    try:
        while True:
            try:
                if not started:
                    await database.execute(CONSUMER_START, name=consumer.name)
                    started = True
                progress = await step(database, consumer)
                backoff = None
            except Exception as error:
                # Rolled back: the same changes come again. Waiting longer each time keeps a
                # handler that keeps failing (or a database that is away) from spinning.
                progress = Progress(0, True, full=True)
                try:
                    if not isinstance(error, HandlerFailed):
                        raise
                    first = settings.consumer_retry_seconds
                    if await failed(database, consumer, error, settings.consumer_attempts):
                        backoff = None  # set aside: the changes behind it go at once
                        continue
                except Exception as away:
                    first = idle_seconds
                    logger.warning(
                        "after-commit consumer %r: %s; its changes will be delivered again",
                        consumer.name,
                        type(away).__name__,
                    )
                backoff = first if backoff is None else min(backoff * 2, MAX_BACKOFF_SECONDS)
                await asyncio.sleep(backoff)
            if not progress.full:
                # A change notified but still behind an older transaction sends no second
                # notification: then look again after `poll_seconds`. Otherwise sleep until
                # woken, so an idle app sends nothing (Neon can suspend its compute).
                await subscription.wait(idle_seconds if progress.again_soon else IDLE_CHECK_SECONDS)
                # Let the changes of a busy moment gather: one batch for many writes.
                await asyncio.sleep(settings.consumer_delay_seconds)
    finally:
        subscription.close()


def start(
    database: Database,
    notifier: Notifier,
    consumers: Sequence[AfterCommit],
    settings: ChangesSettings,
) -> list[asyncio.Task[None]]:
    return [
        asyncio.create_task(run(database, notifier, consumer, settings), name=consumer.name)
        for consumer in consumers
    ]


async def stop(tasks: Sequence[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with suppress(asyncio.CancelledError):
            await task
