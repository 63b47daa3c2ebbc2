"""Task: T-168
Spec: specs/features/jobs.md §Testing

A plugin the job-queue tests register (as a third-party plugin would): tasks that record each
run in a `job_runs` table, fail on request, or hang until their worker is killed.
"""

import asyncio
import os
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import text

from app.core import hookimpl
from app.plugins.jobs.api import Job, JobKind, Periodic

CREATE = """
CREATE TABLE job_runs (
    job_id bigint NOT NULL,
    task text NOT NULL,
    attempt integer NOT NULL,
    pid integer NOT NULL,
    note text NOT NULL DEFAULT '',
    at timestamptz NOT NULL DEFAULT clock_timestamp()
)
"""
RECORD = text(
    "INSERT INTO job_runs (job_id, task, attempt, pid, note)"
    " VALUES (:job_id, :task, :attempt, :pid, :note)"
)
STARTED_BEFORE = text("SELECT count(*) FROM job_runs WHERE job_id = :job_id AND note = 'started'")


async def record(job: Job, note: str = "") -> None:
    await job.db.execute(
        RECORD, job_id=job.id, task=job.task, attempt=job.attempt, pid=os.getpid(), note=note
    )


async def once(job: Job) -> None:
    await record(job)


async def flaky(job: Job) -> None:
    await record(job)
    if job.attempt < job.payload["failures"]:
        raise RuntimeError(f"failing on purpose, attempt {job.attempt}")


async def hang_first_time(job: Job) -> None:
    """The first worker to run it hangs (the test kills it); whoever runs it next finishes."""
    if await job.db.fetchval(STARTED_BEFORE, job_id=job.id):
        await record(job, "done")
        return
    await record(job, "started")
    await asyncio.Event().wait()


ONCE = JobKind("sample.once", once)
FLAKY = JobKind("sample.flaky", flaky, retries=3, backoff=timedelta(seconds=0.3))
HANG = JobKind("sample.hang", hang_first_time)
TICK = JobKind("sample.tick", once)


@hookimpl
def jobs(context: object) -> Sequence[JobKind | Periodic]:
    return [ONCE, FLAKY, HANG, TICK, Periodic(TICK, "* * * * * *")]
