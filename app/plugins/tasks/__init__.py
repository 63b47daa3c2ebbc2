"""Task: T-030, T-246, T-285, T-330, T-393
Spec: specs/api/rest-endpoints.md §Tasks, §Lists, §Sharing

The tasks plugin: each user's tasks and lists of them, at `/api/v1/tasks` and `/api/v1/lists`.

It stands alone with `health` and `auth`. With the `changes` plugin its rows are in the feed
(as `GET /tasks/{id}` shows them, told by the kernel's `row_serializers` hook).
"""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy.sql import Select
from sqlmodel import SQLModel

from app.core import Context, Executor, RowSerializer, hookimpl
from app.plugins.tasks import accounts, hookspecs, list_routes, routes, sharing
from app.plugins.tasks.feed import list_json, task_json
from app.plugins.tasks.models import IdempotencyKey, Task, TaskList
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
    return [
        routes.build_router(context),
        list_routes.build_router(context),
        sharing.build_router(context),
    ]


@hookimpl
def models() -> Sequence[type[SQLModel]]:
    return [TaskList, Task, IdempotencyKey]


@hookimpl
def row_serializers(context: Context) -> Mapping[str, RowSerializer]:
    return {"tasks": task_json, "lists": list_json}


@hookimpl
def before_account_deletion(context: Context) -> Callable[[Executor, str], Awaitable[None]]:
    return accounts.hand_over


@hookimpl
def account_export(context: Context) -> Mapping[str, tuple[Select[Any], Any]]:
    return accounts.SECTIONS
