"""Task: T-161, T-222, T-243
Spec: specs/features/jobs.md §Defining and deferring jobs

What the jobs plugin offers the plugins that require it: defining and deferring jobs.

A plugin gives the job queue `JobKind`s and `Periodic` schedules through this plugin's `jobs`
hook, and defers a job with `await KIND.defer(db, {...}, at=…)`, inside a request's own
transaction when given one, so the job exists exactly when the write that asked for it does.

The queue is PgQueuer's (its tables, its dequeue, its worker), run by the `jobs` plugin.
"""

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import asyncpg
from croniter import croniter
from pgqueuer import AsyncpgDriver, Queries

from app.core import ConfigError, Database, Executor, RawConnection


@dataclass(frozen=True)
class Job:
    """One run of a job kind, as its handler gets it."""

    id: int
    task: str  # its kind's name
    payload: dict[str, Any]
    attempt: int  # 0 on the first run, 1 on the first retry …
    db: Database


JobHandler = Callable[[Job], Awaitable[None]]


@dataclass(frozen=True)
class JobKind:
    """A kind of job: a unique name (`"<plugin>.<what>"`) and the async handler that runs it.

    A handler that raises is run again after `backoff`, doubled each time up to `max_backoff`,
    `retries` times; then the job is held (`todo-api held-jobs`; PgQueuer's log keeps the
    error). A worker that
    dies mid-run leaves the job to be run again once its lease expires, so a handler may run
    more than once for one job and must be safe to repeat.

    Due jobs are taken by priority (higher first), then in the order they were deferred. At
    most `concurrency` jobs of the task run at once across every worker (0: no limit): the
    rest wait in the queue, where a job deferred later with a higher priority can pass them.
    """

    name: str
    run: JobHandler
    retries: int = 5
    backoff: timedelta = timedelta(seconds=10)
    max_backoff: timedelta = timedelta(hours=1)
    concurrency: int = 0

    async def defer(
        self,
        executor: Executor,
        payload: Mapping[str, Any] | None = None,
        *,
        delay: timedelta | None = None,
        at: datetime | None = None,
        dedupe_key: str | None = None,
        priority: int = 0,
    ) -> int | None:
        """Queue a job of this kind; return its id, or None when `dedupe_key` is already held
        by a job of any kind that is waiting or running.

        `executor` is the `DB` (a statement of its own) or a `Transaction` (the job is queued
        only if the transaction commits). The job runs once it is due: now, after `delay`, or
        at `at` (an aware datetime; the database's clock decides when that is).
        """
        if delay is not None and at is not None:
            raise ValueError("give delay or at, not both")
        if at is not None:
            delay = at - datetime.now(UTC)
        wait = max(delay, timedelta(0)) if delay is not None else None
        [job_id] = await self.defer_many(
            executor, [payload or {}], dedupe_keys=[dedupe_key], priorities=[priority], wait=wait
        )
        return job_id

    async def defer_many(
        self,
        executor: Executor,
        payloads: Sequence[Mapping[str, Any]],
        *,
        dedupe_keys: Sequence[str | None],
        priorities: Sequence[int],
        wait: timedelta | None = None,
    ) -> list[int | None]:
        """Queue one job per payload, due after `wait` (now when None), in ONE statement; the
        ids, None where the dedupe key was held (see `defer`)."""
        if not payloads:
            return []
        count = len(payloads)
        if len(dedupe_keys) != count or len(priorities) != count:
            raise ValueError("one dedupe key and one priority per payload")

        async def enqueue(connection: RawConnection) -> list[int | None]:
            # A pooled connection's proxy speaks the same protocol as the connection itself.
            queries = Queries(AsyncpgDriver(cast(asyncpg.Connection, connection)))
            ids = await queries.enqueue(
                [self.name] * count,
                [json.dumps(dict(payload)).encode() for payload in payloads],
                list(priorities),
                execute_after=[wait] * count,
                dedupe_key=list(dedupe_keys),
                on_conflict="skip",
            )
            return [None if job_id is None else int(job_id) for job_id in ids]

        return await executor.on_connection(enqueue)


@dataclass(frozen=True)
class Periodic:
    """Defer `task` (with an empty payload) at every time `cron` names, once per due time
    whatever the number of workers: five fields (minutes), or six with seconds last.

    A due time whose previous job is still waiting or running is skipped, so a backlog cannot
    pile up."""

    task: JobKind
    cron: str

    def __post_init__(self) -> None:
        if not croniter.is_valid(self.cron):
            raise ConfigError(f"periodic job {self.task.name!r}: {self.cron!r} is not a cron")

    @property
    def dedupe_key(self) -> str:
        return f"periodic:{self.task.name}"
