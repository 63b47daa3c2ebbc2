"""The checklists plugin for Todo API: each user's own checklists.

Everything it needs comes from `app.core`: the hook marker, the context, the ownership mixin
and the user-scoped database. Its routes are protected without asking (the kernel adds
authentication to every route not marked `@public`).
"""

from collections.abc import Sequence

from fastapi import APIRouter
from pydantic import BaseModel
from sqlmodel import SQLModel

from app.core import Context, hookimpl
from todo_api_checklists.models import Checklist
from todo_api_checklists.routes import build_router
from todo_api_checklists.settings import Settings

NAME = "checklists"


@hookimpl
def requires() -> Sequence[str]:
    # user_id references the auth plugin's users table.
    return ["auth"]


@hookimpl
def settings_model() -> type[BaseModel]:
    return Settings


@hookimpl
def models() -> Sequence[type[SQLModel]]:
    return [Checklist]


@hookimpl
def routers(context: Context) -> Sequence[APIRouter]:
    return [build_router(context.settings_for(NAME, Settings))]
