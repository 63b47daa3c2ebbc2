"""Task: T-030, T-246
Spec: specs/api/rest-endpoints.md §Tasks

The tasks plugin: each user's todo list, at `/api/v1/tasks`.

It stands alone with `health` and `auth`. With the `changes` plugin its rows are in the feed
(as `GET /tasks/{id}` shows them), through an optional implementation of that plugin's hook.
"""

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel
from sqlmodel import SQLModel

from app.core import Context, hookimpl
from app.plugins.tasks import hookspecs
from app.plugins.tasks.feed import task_json
from app.plugins.tasks.models import IdempotencyKey, Task
from app.plugins.tasks.routes import build_router
from app.plugins.tasks.settings import TasksSettings

__all__ = ["hookspecs"]


@hookimpl
def requires() -> Sequence[str]:
    return ["auth"]


@hookimpl
def settings_model() -> type[BaseModel]:
    return TasksSettings


@hookimpl
def routers(context: Context) -> Sequence[APIRouter]:
    return [build_router(context)]


@hookimpl
def models() -> Sequence[type[SQLModel]]:
    return [Task, IdempotencyKey]


@hookimpl(optionalhook=True)
def change_serializers(context: Context) -> Sequence[Any]:
    # Called by the changes plugin only, so only when it is enabled.
    from app.plugins.changes.api import ChangeSerializer

    return [ChangeSerializer("tasks", task_json)]

