"""Task: T-135
Spec: specs/features/plugins.md §Events

After-commit consumers: each `AfterCommit` subscription fed from the change log.

A consumer's position is a row of `change_consumers`, named after it. One batch is one
transaction: claim that row (a transaction-level advisory lock, taken or skipped like `FOR
UPDATE SKIP LOCKED`: an instance finding it claimed leaves the batch to the one holding it),
read the next committed changes of its entities, await the handler with the transaction, move
the position, commit. The handler's writes and the new
position commit together or not at all, so a crash (a killed process, a dropped connection, an
exception) delivers the same changes again: at least once, in log order, one instance at a time.
"""

import asyncio
import logging
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass

from app.core import Database
from app.plugins.changes.api import AfterCommit, Change
from app.plugins.changes.notifier import Notifier
from app.plugins.changes.queries import (
    CONSUMER_ADVANCE,
    CONSUMER_LOCK,
    CONSUMER_READ,
    CONSUMER_START,
)
from app.plugins.changes.settings import ChangesSettings

logger = logging.getLogger("todo_api")

BATCH = 100
MAX_BACKOFF_SECONDS = 30.0
# An idle consumer is woken by notifications; it also looks this often in case one was missed.
IDLE_CHECK_SECONDS = 60.0


@dataclass(frozen=True)
class Progress:
    """What a step did: how many changes it handled, and whether it should look again soon
    (changes wait behind an open transaction, or another instance holds the consumer)."""

    handled: int
    again_soon: bool


async def step(database: Database, consumer: AfterCommit, batch: int = BATCH) -> Progress:
    """Handle one batch of `consumer`'s changes."""
    async with database.transaction() as transaction:
        position = await transaction.fetchrow(CONSUMER_LOCK, name=consumer.name)
        if position is None:  # another instance holds it; it may die mid-batch
            return Progress(0, True)
        pending: bool = position["pending"]
        rows = await transaction.fetch(
            CONSUMER_READ,
            after_xid=position["xid"],
            after_seq=position["seq"],
            entities=sorted(consumer.entities),
            limit=batch,
        )
        # Fewer changes than asked for: the read saw every change before the watermark taken
        # with the claim (an earlier snapshot than the read's), so the cursor may move there.
        start = (position["xid"], position["seq"])
        end = (rows[-1]["xid"], rows[-1]["seq"]) if rows else start
        if len(rows) < batch:
            end = max(end, (position["xmin"], 0))
        if end <= start:
            return Progress(0, pending)
        changes = [
            Change(
                entity=row["entity"],
                id=row["entity_id"],
                op=row["op"],
                version=row["version"],
                user_id=row["user_id"],
                data=row["data"],
            )
            for row in rows
        ]
        if changes:
            await consumer.handler(transaction, changes)
        await transaction.execute(CONSUMER_ADVANCE, name=consumer.name, xid=end[0], seq=end[1])
        return Progress(len(rows), pending)


async def run(
    database: Database, notifier: Notifier, consumer: AfterCommit, settings: ChangesSettings
) -> None:
    """Feed `consumer` for as long as the app runs."""
    idle_seconds = settings.poll_seconds
    subscription = notifier.subscribe(None)
    started = False
    backoff = idle_seconds
    try:
        while True:
            try:
                if not started:
                    await database.execute(CONSUMER_START, name=consumer.name)
                    started = True
                progress = await step(database, consumer)
                backoff = idle_seconds
            except Exception:
                # Rolled back: the same changes come again. Waiting longer each time keeps a
                # handler that keeps failing (or a database that is away) from spinning.
                logger.exception(
                    "after-commit consumer %r failed; its changes will be delivered again",
                    consumer.name,
                )
                progress = Progress(0, True)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            if progress.handled < BATCH:
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
