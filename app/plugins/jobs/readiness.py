"""Task: T-165
Spec: specs/features/jobs.md §Readiness

A readiness check for a stuck queue: a job that is due but has waited longer than
`stuck_after_seconds` means no worker is taking jobs (none running, or all failing to reach the
database). Only jobs of the tasks this app defines count: a disabled plugin's jobs wait for it
to be enabled again, and are no reason to take the instance out of service. One statement on
PgQueuer's partial index of queued jobs.
"""

from collections.abc import Sequence

from sqlalchemy import text

from app.core import Database, ReadinessCheck
from app.plugins.jobs.schema import TABLES

OLDEST_DUE = text(
    "SELECT extract(epoch FROM now() - min(execute_after))::float8"
    f" FROM {TABLES.queue_table}"
    " WHERE status = 'queued' AND execute_after <= now() AND entrypoint = ANY(:entrypoints)"
)


def stuck_queue(threshold_seconds: float, entrypoints: Sequence[str]) -> ReadinessCheck:
    """The check, for jobs of the tasks named `entrypoints` (those the app's plugins define)."""
    names = sorted(entrypoints)

    async def check(db: Database) -> str | None:
        waited = await db.fetchval(OLDEST_DUE, entrypoints=names)
        if waited is None or waited <= threshold_seconds:
            return None
        return (
            f"job queue stuck: the oldest due job has waited {waited:.0f} s "
            f"(more than {threshold_seconds:g} s); is a worker running?"
        )

    return check
