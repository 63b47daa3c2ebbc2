"""Task: T-206, T-208
Spec: specs/features/jobs.md §Held jobs

Jobs that failed every try are held, not dropped: PgQueuer's own `on_failure="hold"` keeps them
in its queue with status `failed` (its log keeps the error), so one job a handler cannot process
never stops the others and nothing is lost without an operator's word. `todo-api held-jobs
list|retry ID|drop ID`, and their number in readiness (`counts.held_jobs`; still ready).
"""

import sys

import asyncpg
import click
from sqlalchemy import text

from app.core import CommandLine, Count, Database, ReadinessCheck, error_summary
from app.plugins.jobs.schema import TABLES

QUEUE, LOG = TABLES.queue_table, TABLES.queue_table_log

HELD_COUNT = text(f"SELECT count(*) FROM {QUEUE} WHERE status = 'failed'")
# Each held job with the error its last try left in the log (PgQueuer sends the record as JSON
# text, which the app's pool stores as a JSON string: unwrapped here).
HELD_LIST = text(
    "SELECT q.id, q.entrypoint, q.attempts, q.updated,"
    " l.record ->> 'exception_type' AS error_type,"
    " l.record ->> 'exception_message' AS error"
    f" FROM {QUEUE} q LEFT JOIN LATERAL (SELECT CASE jsonb_typeof(traceback)"
    "  WHEN 'string' THEN (traceback #>> '{}')::jsonb ELSE traceback END AS record"
    f" FROM {LOG}"
    "  WHERE job_id = q.id AND traceback IS NOT NULL ORDER BY created DESC LIMIT 1) l ON true"
    " WHERE q.status = 'failed' ORDER BY q.id"
)
# Queued again with its attempts as they are (all used up): one more try, then held again if
# it fails. PgQueuer's own requeue would grant every retry anew.
HELD_RETRY = text(
    "WITH requeued AS ("
    f" UPDATE {QUEUE} SET status = 'queued', execute_after = now(), updated = now(),"
    "  queue_manager_id = NULL WHERE id = :id AND status = 'failed'"
    "  RETURNING id, entrypoint, priority)"
    f" INSERT INTO {LOG} (job_id, status, entrypoint, priority)"
    " SELECT id, 'queued', entrypoint, priority FROM requeued RETURNING job_id"
)
HELD_DROP = text(
    "WITH dropped AS ("
    f" DELETE FROM {QUEUE} WHERE id = :id AND status = 'failed'"
    "  RETURNING id, entrypoint, priority)"
    f" INSERT INTO {LOG} (job_id, status, entrypoint, priority)"
    " SELECT id, 'deleted', entrypoint, priority FROM dropped RETURNING job_id"
)


def readiness() -> ReadinessCheck:
    async def check(db: Database) -> Count:
        return Count("held_jobs", await db.fetchval(HELD_COUNT))

    return check


@click.group("held-jobs")
def held_jobs() -> None:
    """Jobs that failed every try and are held."""


@held_jobs.command("list")
@click.pass_obj
def list_command(command_line: CommandLine) -> None:
    """One line each: id, task, tries, the last error, since when."""
    rows = command_line.on_database(lambda db: db.fetch(HELD_LIST))
    if not rows:
        click.echo("no held jobs")
        return
    for row in rows:
        error = error_summary(row["error"] or "")
        click.echo(
            f"{row['id']}  {row['entrypoint']}  {row['attempts']} tries"
            f"  {row['error_type'] or '?'}: {error}  {row['updated'].isoformat(timespec='seconds')}"
        )


@held_jobs.command("retry")
@click.argument("job", type=int)
@click.pass_obj
def retry_command(command_line: CommandLine, job: int) -> None:
    """Queue held job JOB once more (held again if it fails)."""
    try:
        found = command_line.on_database(lambda db: db.fetchval(HELD_RETRY, id=job))
    except asyncpg.UniqueViolationError:
        click.echo(f"error: job {job}'s dedupe key is held by a job already waiting", err=True)
        sys.exit(1)
    if found is None:
        click.echo(f"error: no held job {job}", err=True)
        sys.exit(1)
    click.echo(f"{job}: queued once more")


@held_jobs.command("drop")
@click.argument("job", type=int)
@click.pass_obj
def drop_command(command_line: CommandLine, job: int) -> None:
    """Delete held job JOB: it never runs."""
    if command_line.on_database(lambda db: db.fetchval(HELD_DROP, id=job)) is None:
        click.echo(f"error: no held job {job}", err=True)
        sys.exit(1)
    click.echo(f"{job}: dropped")
