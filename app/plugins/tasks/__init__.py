"""Task: T-030
Spec: specs/api/rest-endpoints.md §Tasks

The tasks plugin: each user's todo list, at `/api/v1/tasks`.
"""

from collections.abc import Sequence

from fastapi import APIRouter
from pydantic import BaseModel
from sqlmodel import SQLModel

from app.core import Context, hookimpl
from app.plugins.tasks.models import IdempotencyKey, Task
from app.plugins.tasks.routes import router
from app.plugins.tasks.settings import TasksSettings


@hookimpl
def requires() -> Sequence[str]:
    return ["auth"]


@hookimpl
def settings_model() -> type[BaseModel]:
    return TasksSettings


@hookimpl
def routers(context: Context) -> Sequence[APIRouter]:
    return [router]


@hookimpl
def models() -> Sequence[type[SQLModel]]:
    return [Task, IdempotencyKey]
