"""Task: T-160, T-206, T-393
Spec: specs/features/jobs.md

The jobs plugin: PgQueuer's schema (its own Alembic branch), a worker in every `todo-api serve`
(and `todo-api worker` for workers apart), readiness that fails on a stuck queue, and the daily
pruning of PgQueuer's log; jobs that failed every try are held (`todo-api held-jobs`). Plugins
define jobs through its own `jobs` hook (`hookspecs`) and defer them with `JobKind.defer` (`api`).
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import click
from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import text

from app.core import Context, Executor, ReadinessCheck, hookimpl, listen_options
from app.plugins.jobs import held, hookspecs
from app.plugins.jobs.api import JobKind, Periodic
from app.plugins.jobs.command import worker
from app.plugins.jobs.maintenance import maintenance
from app.plugins.jobs.readiness import stuck_queue
from app.plugins.jobs.schema import TABLES
from app.plugins.jobs.settings import JobsSettings
from app.plugins.jobs.state import NAME, Jobs
from app.plugins.jobs.worker import Worker

__all__ = ["hookspecs"]


# Jobs waiting to run for a deleted user (a reminder to fire, a webhook to deliver) go with them:
# by the convention every job kind here keeps, the payload names its user as `user_id`. A job
# already running finds its rows gone. The queue is short, so it is scanned.
_FORGET_QUEUED = text(
    f"DELETE FROM {TABLES.queue_table} WHERE status = 'queued'"
    " AND convert_from(payload, 'UTF8')::jsonb ->> 'user_id' = :user_id"
)


async def _forget(transaction: Executor, user_id: str) -> None:
    await transaction.execute(_FORGET_QUEUED, user_id=user_id)


@hookimpl(optionalhook=True)
def after_account_deletion(context: Context) -> Callable[[Executor, str], Awaitable[None]]:
    return _forget


@hookimpl
def settings_model() -> type[BaseModel]:
    return JobsSettings


@hookimpl
def jobs(context: Context) -> Sequence[JobKind | Periodic]:
    return maintenance(context.settings_for(NAME, JobsSettings).retention_days)


@hookimpl
def readiness_checks(context: Context) -> Sequence[ReadinessCheck]:
    state = Jobs.of(context)
    tasks = [task.name for task in state.definitions.tasks]
    return [stuck_queue(state.config.stuck_after_seconds, tasks), held.readiness()]


@hookimpl
def lifespan(context: Context) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    state = Jobs.of(context)  # the definitions are checked now, at assembly

    @asynccontextmanager
    async def running(app: FastAPI) -> AsyncIterator[None]:
        if not state.runs_worker:
            yield
            return
        settings = context.settings
        worker = Worker(
            state.definitions,
            state.config,
            app.state.database,
            listen_options(settings),
        )
        shutdown = asyncio.Event()
        worker_task = asyncio.create_task(worker.run(shutdown), name="job worker")
        try:
            yield
        finally:
            shutdown.set()
            await worker_task

    return running


@hookimpl
def cli_commands() -> Sequence[click.Command]:
    return [worker, held.held_jobs]
