"""Task: T-170, T-397, T-434
Spec: specs/features/recurring.md

The recurring plugin: a task may recur by an RFC 5545 rule, anchored to its `due_at` in an
IANA time zone. Completing an occurrence makes the next one in the same transaction (an
in-transaction subscriber of `tasks`); `/api/v1/tasks/{task_id}/recurrence` sets, reads and
removes the rule; `/api/v1/tasks/{task_id}/occurrence` deletes one occurrence or the rest of a
series.
"""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select
from sqlmodel import SQLModel, col

from app.core import Context, Executor, hookimpl
from app.plugins.recurring.models import Recurrence
from app.plugins.recurring.occurrences import Occurrences
from app.plugins.recurring.routes import build_router, put_rule
from app.plugins.recurring.settings import RecurringSettings
from app.plugins.tasks.api import COMPLETING, InTransaction

NAME = "recurring"


def _occurrences(context: Context) -> Occurrences:
    return context.shared(
        NAME, lambda: Occurrences(context.settings_for(NAME, RecurringSettings), context)
    )


@hookimpl
def requires() -> Sequence[str]:
    # Its rows reference tasks; a task's writes reach it through the tasks plugin's hook.
    return ["tasks"]


@hookimpl
def settings_model() -> type[BaseModel]:
    return RecurringSettings


@hookimpl
def models() -> Sequence[type[SQLModel]]:
    return [Recurrence]


@hookimpl
def routers(context: Context) -> Sequence[APIRouter]:
    return [build_router(_occurrences(context))]


@hookimpl
def task_subscriptions(context: Context) -> Sequence[InTransaction]:
    # Completions only: every other task write keeps its single round trip.
    completions = InTransaction(
        _occurrences(context).on_task_write, ops=frozenset({"update"}), fields=COMPLETING
    )
    return [completions]


@hookimpl
def account_export(context: Context) -> Mapping[str, tuple[Any, Any]]:
    # The data export (auth's hook): the user's recurrence rules, one per task.
    table = Recurrence.__table__  # type: ignore[attr-defined]
    return {"recurrences": (select(table), table.c.task_id)}


@hookimpl(optionalhook=True)
def quickadd_recurrence(
    context: Context,
) -> Callable[[Executor, str, datetime, str, str], Awaitable[None]]:
    # Quick add's hook (quickadd.md §Recurrence): the rule of a task it just created, set as
    # PUT /recurrence sets one, in quick add's transaction. The task is new, so it has no rule
    # yet: no statement reads one.
    horizon = _occurrences(context).settings.horizon_years

    async def set_rule(db: Executor, task_id: str, due_at: datetime, rule: str, zone: str) -> None:
        current = {"due_at": due_at, "rule": None, "timezone": None, "series_id": None}
        await put_rule(db, task_id, current, rule, zone, horizon)  # a Refusal is a ValueError

    return set_rule


@hookimpl(optionalhook=True)
def calendar_recurrences() -> Sequence[Any]:
    # The calendar plugin's feeds (when enabled) show each series once: the rule on the
    # occurrence that stands for it, the one not yet followed by a next.
    return [
        select(col(Recurrence.task_id), col(Recurrence.rule), col(Recurrence.timezone)).where(
            col(Recurrence.successor_id).is_(None)
        )
    ]
