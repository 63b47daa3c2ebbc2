"""Task: T-170
Spec: specs/features/recurring.md

The recurring plugin: a task may recur by an RFC 5545 rule, anchored to its `due_at` in an
IANA time zone. Completing an occurrence makes the next one in the same transaction (an
in-transaction subscriber of `tasks`); `/api/v1/tasks/{task_id}/recurrence` sets, reads and
removes the rule; `/api/v1/tasks/{task_id}/occurrence` deletes one occurrence or the rest of a
series.
"""

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel
from sqlmodel import SQLModel

from app.core import Context, InTransaction, hookimpl
from app.plugins.recurring.models import Recurrence
from app.plugins.recurring.occurrences import Occurrences
from app.plugins.recurring.routes import build_router
from app.plugins.recurring.settings import RecurringSettings
from app.plugins.tasks.queries import COMPLETING

NAME = "recurring"


def _occurrences(context: Context) -> Occurrences:
    return context.shared(NAME, lambda: Occurrences(context.settings_for(NAME, RecurringSettings)))


@hookimpl
def requires() -> Sequence[str]:
    # Its rows reference tasks; a task's writes reach it through the tasks plugin's units.
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
def subscriptions(context: Context) -> Sequence[InTransaction]:
    # Completions only: every other task write keeps its single round trip.
    completions = InTransaction(
        "tasks",
        _occurrences(context).on_task_write,
        ops=frozenset({"update"}),
        fields=COMPLETING,
    )
    return [completions]


@hookimpl
def lifespan(context: Context) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    occurrences = _occurrences(context)

    @asynccontextmanager
    async def telling(app: FastAPI) -> AsyncIterator[None]:
        # The occurrences made are told to the app's other in-transaction subscribers.
        occurrences.subscribers = app.state.events
        yield

    return telling
