"""Task: T-130, T-206
Spec: specs/api/rest-endpoints.md §Changes, specs/features/plugins.md §Change log, §Events

The changes plugin: the per-user change log every tracked table writes to (by the trigger its
migration creates and the kernel attaches), the feed at `/api/v1/changes` (a page, or a live
stream), the after-commit consumers of the `subscriptions` hook, and the changes they set aside
(`todo-api set-aside`, and their count in readiness).
"""

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import click
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel
from sqlmodel import SQLModel

from app.core import Context, Database, ReadinessCheck, hookimpl
from app.core.app import database_url
from app.core.database import listen_options
from app.plugins.changes import consumers, setaside
from app.plugins.changes.models import (
    ChangeEntry,
    ConsumerCursor,
    Horizon,
    SetAside,
    StreamLeases,
)
from app.plugins.changes.notifier import Notifier
from app.plugins.changes.purge import purge_forever
from app.plugins.changes.routes import Feed, router
from app.plugins.changes.settings import ChangesSettings


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
    _feed(context)
    return [router]


@hookimpl
def lifespan(context: Context) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    feed = _feed(context)

    @asynccontextmanager
    async def running(app: FastAPI) -> AsyncIterator[None]:
        database: Database = app.state.database
        settings = context.settings
        listen = listen_options(settings, database_url(settings))
        notifier = feed.notifier = Notifier(database, listen, feed.settings.poll_seconds)
        tasks = [
            asyncio.create_task(purge_forever(database, feed.settings.retention_days)),
            *consumers.start(database, notifier, app.state.events.after_commit, feed.settings),
        ]
        try:
            yield
        finally:
            await consumers.stop(tasks)
            await notifier.close()

    return running


def _feed(context: Context) -> Feed:
    """The plugin's per-app state, made once: its settings and the serializers of every plugin."""

    def make() -> Feed:
        serializers = {s.entity: s.serialize for s in context.collect("change_serializers")}
        return Feed(context.settings_for("changes", ChangesSettings), serializers)

    return context.shared("changes", make)
