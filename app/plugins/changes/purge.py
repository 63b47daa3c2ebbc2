"""Task: T-132
Spec: specs/api/rest-endpoints.md §Changes

Changes, tombstones included, are kept `retention_days`; older ones are deleted in the
background, and the greatest position deleted is kept as the horizon: a cursor before it may
have missed changes, and gets 410 Gone.
"""

import asyncio
import logging

from app.core import Database
from app.plugins.changes.queries import PURGE

logger = logging.getLogger("todo_api")
PURGE_EVERY_SECONDS = 600
# Batches per round: a backlog is worked off over several rounds, not in one long run.
MAX_BATCHES = 100


async def purge(database: Database, retention_days: float) -> None:
    """Delete the changes older than the retention, a batch at a time."""
    for _ in range(MAX_BATCHES):
        # Deleting twice is harmless: the retry deletes what is left.
        if not await database.fetch(PURGE, seconds=retention_days * 86400):
            return


async def purge_forever(database: Database, retention_days: float) -> None:
    while True:
        try:
            await purge(database, retention_days)
        except Exception:  # a purge that fails is tried again next time; never fatal
            logger.warning("could not purge old changes", exc_info=True)
        await asyncio.sleep(PURGE_EVERY_SECONDS)
