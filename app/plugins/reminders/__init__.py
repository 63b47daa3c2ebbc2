"""Task: T-180, T-397
Spec: specs/features/reminders.md

The reminders plugin: reminders on a user's tasks, absolute (`at`) or relative to the task's
`due_at` (`offset`), fired exactly once by the job queue into the user's inbox
(`reminders_inbox`), which the change feed and its stream deliver — and which other plugins
(webhooks) deliver further by consuming its changes. Reminders follow their tasks: completing a
task cancels them, deleting it deletes them, moving `due_at` moves the relative ones.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select
from sqlmodel import SQLModel

from app.core import Context, RowSerializer, hookimpl
from app.plugins.changes.api import AfterCommit
from app.plugins.jobs.api import JobKind, Periodic
from app.plugins.reminders.feed import SERIALIZERS
from app.plugins.reminders.firing import Reminders
from app.plugins.reminders.models import InboxItem, Reminder, TaskSlots
from app.plugins.reminders.routes import build_router
from app.plugins.reminders.settings import RemindersSettings


@hookimpl
def requires() -> Sequence[str]:
    # users (auth), tasks.id (tasks), the queue that fires them (jobs), the feed that delivers
    # the inbox and the consumer that follows the tasks (changes).
    return ["auth", "tasks", "jobs", "changes"]


@hookimpl
def settings_model() -> type[BaseModel]:
    return RemindersSettings


@hookimpl
def models() -> Sequence[type[SQLModel]]:
    return [Reminder, InboxItem, TaskSlots]


@hookimpl
def routers(context: Context) -> Sequence[APIRouter]:
    return [build_router(Reminders.of(context))]


@hookimpl
def jobs(context: Context) -> Sequence[JobKind | Periodic]:
    return Reminders.of(context).jobs()


@hookimpl
def subscriptions(context: Context) -> Sequence[AfterCommit]:
    return [Reminders.of(context).consumer()]


@hookimpl
def row_serializers(context: Context) -> Mapping[str, RowSerializer]:
    return SERIALIZERS


@hookimpl
def account_export(context: Context) -> Mapping[str, tuple[Any, Any]]:
    # The data export (auth's hook): the user's reminders and their inbox; the slots are
    # bookkeeping.
    reminders, inbox = Reminder.__table__, InboxItem.__table__  # type: ignore[attr-defined]
    return {
        "reminders": (select(reminders), reminders.c.id),
        "reminders_inbox": (select(inbox), inbox.c.id),
    }
