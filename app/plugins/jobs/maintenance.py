"""Task: T-165
Spec: specs/features/jobs.md §Maintenance

The jobs plugin's own periodic job. PgQueuer keeps a log row per finished job and per-second
statistics forever; this deletes those older than `retention_days`, once a day. (Finished jobs
themselves leave PgQueuer's queue table at once.)
"""

from collections.abc import Sequence

from sqlalchemy import text

from app.plugins.jobs.api import Job, JobKind, Periodic
from app.plugins.jobs.schema import TABLES

# Rows already folded into the statistics (`aggregated`) only: the rest are still to be counted.
PRUNE_LOG = text(
    f"DELETE FROM {TABLES.queue_table_log}"
    " WHERE aggregated AND created < now() - make_interval(days => :days)"
)
PRUNE_STATISTICS = text(
    f"DELETE FROM {TABLES.statistics_table} WHERE created < now() - make_interval(days => :days)"
)
DAILY = "17 3 * * *"  # 03:17 UTC: off the hour, when schedules everywhere else fire


def maintenance(retention_days: int) -> Sequence[JobKind | Periodic]:
    async def prune(job: Job) -> None:
        await job.db.execute(PRUNE_LOG, days=retention_days)
        await job.db.execute(PRUNE_STATISTICS, days=retention_days)

    task = JobKind("jobs.prune", prune, retries=3)
    return [task, Periodic(task, DAILY)]
