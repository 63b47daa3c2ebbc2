"""Task: T-124, T-397
Spec: specs/features/plugins.md §Writing a plugin

The checklists plugin for Todo API: the items of a task, at `/api/v1/tasks/{task_id}/items`.
Written with `todo-api new-plugin checklists`, then made to hang off the tasks plugin.

Everything it needs from Todo API comes from `app.core`; from the plugin it builds on, tasks,
only the `Task` model, so that its statements name the very table the kernel scopes.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select
from sqlmodel import SQLModel

from app.core import Context, hookimpl
from todo_api_checklists.models import ChecklistItem
from todo_api_checklists.routes import build_router
from todo_api_checklists.settings import Settings

NAME = "checklists"


@hookimpl
def requires() -> Sequence[str]:
    # user_id references auth's users, task_id the tasks plugin's tasks.
    return ["auth", "tasks"]


@hookimpl
def settings_model() -> type[BaseModel]:
    return Settings


@hookimpl
def models() -> Sequence[type[SQLModel]]:
    return [ChecklistItem]


@hookimpl
def routers(context: Context) -> Sequence[APIRouter]:
    return [build_router(context)]


@hookimpl
def account_export(context: Context) -> Mapping[str, tuple[Any, Any]]:
    # The data export (the auth plugin's hook): the items of the user's tasks.
    items = ChecklistItem.__table__  # type: ignore[attr-defined]
    return {"checklist_items": (select(items), items.c.id)}
