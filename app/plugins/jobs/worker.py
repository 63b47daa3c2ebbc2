"""Task: T-163, T-206, T-222
Spec: specs/features/jobs.md §The worker

The worker: PgQueuer's own `QueueManager` and `SchedulerManager`, run by PgQueuer's own
supervisor (`pgqueuer.run`), which starts a fresh instance after a failure — the database
restarting, a dropped connection — instead of giving up.

What is ours: turning the plugins' `JobKind`s into PgQueuer entrypoints with database-level retries
(`DatabaseRetryEntrypointExecutor`: a failed job is queued again with a later `execute_after`,
so a retry survives a restart too), their `Periodic`s into PgQueuer schedules that defer the
task, and where the connections go (`SplitDriver`).
"""

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
import pgqueuer
from pgqueuer import PgQueuer
from pgqueuer.executors import DatabaseRetryEntrypointExecutor, EntrypointExecutorParameters
from pgqueuer.models import Job as QueuedJob
from pgqueuer.models import Schedule

from app.core import CONNECT_TIMEOUT_SECONDS, ConfigError, Database, EngineOptions
from app.plugins.jobs.api import Job, JobKind, Periodic
from app.plugins.jobs.driver import SplitDriver
from app.plugins.jobs.settings import JobsSettings

logger = logging.getLogger("todo_api")
# After a failure (the database away), the next attempt to start: soon, but not a busy loop.
RESTART_SECONDS = 1.0
# A listening worker is woken by NOTIFY; it still looks this often, in case one was missed.
LISTENING_POLL_SECONDS = 10.0


@dataclass(frozen=True)
class Definitions:
    """Every enabled plugin's answers to the `jobs` hook, checked."""

    tasks: tuple[JobKind, ...]
    periodics: tuple[Periodic, ...]

    @classmethod
    def of(cls, answers: Sequence[object]) -> "Definitions":
        tasks = [answer for answer in answers if isinstance(answer, JobKind)]
        periodics = [answer for answer in answers if isinstance(answer, Periodic)]
        strays = [answer for answer in answers if not isinstance(answer, JobKind | Periodic)]
        if strays:
            raise ConfigError(f"the jobs hook returns JobKind and Periodic only, not {strays[0]!r}")
        names = [task.name for task in tasks]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ConfigError(f"job task {', '.join(map(repr, twice))} defined twice")
        for periodic in periodics:
            if periodic.task not in tasks:
                raise ConfigError(
                    f"periodic job {periodic.task.name!r} names a task no plugin's jobs hook lists"
                )
        return cls(tuple(tasks), tuple(periodics))


class Worker:
    def __init__(
        self,
        definitions: Definitions,
        settings: JobsSettings,
        database: Database,
        listen: EngineOptions | None,
    ) -> None:
        self.definitions = definitions
        self.settings = settings
        self.database = database
        self.listen = listen

    async def run(self, shutdown: asyncio.Event) -> None:
        """Take and run jobs until `shutdown` is set; then wait for the running ones to finish
        (a job cancelled half-way would be recorded as cancelled, never to run again)."""
        logger.info(
            "job worker: %d tasks, %d periodic; %s",
            len(self.definitions.tasks),
            len(self.definitions.periodics),
            "woken by LISTEN"
            if self.listen
            else f"polling every {self.settings.poll_seconds:g} s (no LISTEN behind a pooler)",
        )
        poll = LISTENING_POLL_SECONDS if self.listen else self.settings.poll_seconds
        await pgqueuer.run(
            self._instance,
            dequeue_timeout=timedelta(seconds=poll),
            heartbeat_timeout=timedelta(seconds=self.settings.lease_seconds),
            restart_on_failure=True,
            restart_delay=timedelta(seconds=RESTART_SECONDS),
            # PgQueuer checks every 10 s that a NOTIFY comes back; when the LISTEN connection
            # died (a dropped idle connection) that is a failure, and a fresh instance listens
            # on a fresh connection. Without LISTEN the check can only fail: not a failure then.
            shutdown_on_listener_failure=self.listen is not None,
            shutdown=shutdown,
        )

    @asynccontextmanager
    async def _instance(self) -> AsyncIterator[PgQueuer]:
        """One supervised run. A fresh `PgQueuer` each time: its shutdown event latches."""
        listener = (
            await asyncpg.connect(**self.listen.connect_kwargs(), timeout=CONNECT_TIMEOUT_SECONDS)
            if self.listen
            else None
        )
        try:
            queue = PgQueuer(SplitDriver(self.database.pool, listener))
            for task in self.definitions.tasks:
                # A job that failed every try is held (status `failed`), not deleted: set
                # aside for `todo-api held-jobs`, while the others run on.
                queue.entrypoint(
                    task.name,
                    concurrency_limit=task.concurrency,
                    executor_factory=_retrying(task),
                    on_failure="hold",
                )(self._handler(task))
            for periodic in self.definitions.periodics:
                queue.schedule(periodic.task.name, periodic.cron)(self._deferrer(periodic))
            yield queue
        finally:
            if listener is not None:
                await listener.close()

    def _handler(self, task: JobKind) -> Callable[[QueuedJob], Awaitable[None]]:
        async def run(job: QueuedJob) -> None:
            payload = json.loads(job.payload) if job.payload else {}
            await task.run(Job(int(job.id), task.name, payload, job.attempts, self.database))

        return run

    def _deferrer(self, periodic: Periodic) -> Callable[[Schedule], Awaitable[None]]:
        # The schedule only defers: the work itself is a job, with the task's retries and lease.
        async def defer(schedule: Schedule) -> None:
            await periodic.task.defer(self.database, dedupe_key=periodic.dedupe_key)

        return defer


def _retrying(
    task: JobKind,
) -> Callable[[EntrypointExecutorParameters], DatabaseRetryEntrypointExecutor]:
    def executor(parameters: EntrypointExecutorParameters) -> DatabaseRetryEntrypointExecutor:
        return DatabaseRetryEntrypointExecutor(
            parameters,
            max_attempts=task.retries,
            initial_delay=task.backoff,
            max_delay=task.max_backoff,
        )

    return executor
