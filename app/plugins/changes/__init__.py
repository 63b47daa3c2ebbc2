"""Task: T-130, T-206, T-242, T-273
Spec: specs/api/rest-endpoints.md §Changes, specs/features/plugins.md §Change log, §Events

The changes plugin: the per-user change log every tracked table writes to (by the triggers this
plugin attaches), the feed at `/api/v1/changes` (a page, or a live stream), the after-commit
consumers of its `subscriptions` hook, and the changes they set aside (`todo-api set-aside`,
and their count in readiness).
"""

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import click
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel
from sqlalchemy import Connection
from sqlmodel import SQLModel

from app.core import Context, Database, ReadinessCheck, hookimpl, listen_options
from app.plugins.changes import consumers, hookspecs, setaside, triggers
from app.plugins.changes.api import consumers as checked
from app.plugins.changes.api import row_serializers
from app.plugins.changes.models import (
    ChangeEntry,
    ConsumerCursor,
    Horizon,
    SetAside,
    StreamLeases,
)
from app.plugins.changes.notifier import Notifier
from app.plugins.changes.purge import EVERY_TEN_MINUTES, purge
from app.plugins.changes.routes import Feed, build_router
from app.plugins.changes.settings import ChangesSettings
from app.plugins.jobs.api import Job, JobKind, Periodic

__all__ = ["hookspecs"]
NAME = "changes"


def _feed(context: Context) -> Feed:
    """The plugin's per-app state, made once: its settings, the serializers and the consumers
    of every plugin."""

    def make() -> Feed:
        serializers = row_serializers(context)
        subscribers = checked(context.collect("subscriptions"))
        return Feed(context.settings_for(NAME, ChangesSettings), serializers, subscribers)

    return context.shared(NAME, make)


@hookimpl
def settings_model() -> type[BaseModel]:
    return ChangesSettings


@hookimpl
def models() -> Sequence[type[SQLModel]]:
    return [ChangeEntry, Horizon, ConsumerCursor, SetAside, StreamLeases]


@hookimpl
def readiness_checks(context: Context) -> Sequence[ReadinessCheck]:
    return [setaside.readiness()]


@hookimpl
def cli_commands() -> Sequence[click.Command]:
    return [setaside.set_aside]


@hookimpl
def routers(context: Context) -> Sequence[APIRouter]:
    return [build_router(_feed(context))]


@hookimpl
def after_upgrade(context: Context) -> Callable[[Connection], None]:
    return triggers.attacher(model for answer in context.hook.models() for model in answer)


@hookimpl
def requires() -> Sequence[str]:
    # The log's purge is a periodic job.
    return ["jobs"]


@hookimpl
def jobs(context: Context) -> Sequence[JobKind | Periodic]:
    retention_days = _feed(context).settings.retention_days

    async def purging(job: Job) -> None:
        await purge(job.db, retention_days)

    kind = JobKind("changes.purge", purging, retries=0)
    return [kind, Periodic(kind, EVERY_TEN_MINUTES)]


@hookimpl
def lifespan(context: Context) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    feed = _feed(context)

    @asynccontextmanager
    async def running(app: FastAPI) -> AsyncIterator[None]:
        database: Database = app.state.database
        listen = listen_options(context.settings)
        notifier = feed.notifier = Notifier(database, listen, feed.settings.poll_seconds)
        tasks = consumers.start(database, notifier, feed.consumers, feed.settings)
        try:
            yield
        finally:
            await consumers.stop(tasks)
            await notifier.close()

    return running
