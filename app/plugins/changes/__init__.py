"""Task: T-130, T-206, T-242, T-273, T-393
Spec: specs/api/rest-endpoints.md §Changes, specs/features/plugins.md §Change log, §Events

The changes plugin: the per-user change log every tracked table writes to (by the triggers this
plugin attaches), the feed at `/api/v1/changes` (a page, or a live stream), the after-commit
consumers of its `subscriptions` hook, and the changes they set aside (`todo-api set-aside`,
and their count in readiness).
"""

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import click
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel
from sqlalchemy import Connection, bindparam, delete, text
from sqlmodel import SQLModel, col

from app.core import Context, Database, Executor, ReadinessCheck, hookimpl, listen_options
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


# No foreign key to `users` here (the owner may come from any authentication plugin), so a
# deleted user's log, set-aside changes and stream leases go by these statements, after the
# cascade and every other plugin's step (`trylast`): the entries their writes logged go too.
_FORGET_LOG = delete(ChangeEntry)
# Other members' entries of a list the user owned name them (`user_id` of the row logged): the
# value is blanked, not the entry, so their history stays whole. Plain SQL (they are other
# users' rows) over the whole log, which the purge keeps to its retention; deletions are rare.
_BLANK_MENTIONS = text(
    """
UPDATE changes SET data = (
    SELECT jsonb_object_agg(
        key, CASE WHEN value = to_jsonb(CAST(:user_id AS text)) THEN 'null'::jsonb ELSE value END
    )
    FROM jsonb_each(data)
)
WHERE jsonb_typeof(data) = 'object'
    AND EXISTS (SELECT FROM jsonb_each_text(data) AS field WHERE field.value = :user_id)
"""
)
_FORGET_LEASES = delete(StreamLeases)
_FORGET_SET_ASIDE = delete(SetAside).where(col(SetAside.user_id) == bindparam("user_id"))


async def _forget(transaction: Executor, user_id: str) -> None:
    owned = transaction.owned(user_id)
    await owned.execute(_FORGET_LOG)
    await owned.execute(_FORGET_LEASES)
    await transaction.execute(_FORGET_SET_ASIDE, user_id=user_id)
    await transaction.execute(_BLANK_MENTIONS, user_id=user_id)


@hookimpl(optionalhook=True, trylast=True)
def after_account_deletion(context: Context) -> Callable[[Executor, str], Awaitable[None]]:
    return _forget


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
