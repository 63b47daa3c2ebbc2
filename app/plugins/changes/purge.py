"""Task: T-132, T-248
Spec: specs/api/rest-endpoints.md §Changes

Changes, tombstones included, are kept `retention_days`; older ones are deleted by a periodic
job (the jobs plugin's, when it is enabled), and the greatest position deleted is kept as the
horizon: a cursor before it may have missed changes, and gets 410 Gone.
"""

from app.core import Database
from app.plugins.changes.queries import PURGE

EVERY_TEN_MINUTES = "*/10 * * * *"
# Batches per run: a backlog is worked off over several runs, not in one long one.
MAX_BATCHES = 100


async def purge(database: Database, retention_days: float) -> None:
    """Delete the changes older than the retention, a batch at a time."""
    for _ in range(MAX_BATCHES):
        # Deleting twice is harmless: the retry deletes what is left.
        if not await database.fetch(PURGE, seconds=retention_days * 86400):
            return
