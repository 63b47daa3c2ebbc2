"""Task: T-030
Spec: specs/api/rest-endpoints.md §Tasks

The tasks plugin: each user's todo list, at `/api/v1/tasks`.
"""

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel
from sqlmodel import SQLModel

from app.core import ChangeSerializer, Context, hookimpl
from app.plugins.tasks.feed import SERIALIZER
from app.plugins.tasks.idempotency import purge_forever
from app.plugins.tasks.models import IdempotencyKey, Task
from app.plugins.tasks.routes import router
from app.plugins.tasks.settings import TasksSettings


@hookimpl
def requires() -> Sequence[str]:
    return ["auth", "changes"]


@hookimpl
def settings_model() -> type[BaseModel]:
    return TasksSettings


@hookimpl
def routers(context: Context) -> Sequence[APIRouter]:
    return [router]


@hookimpl
def models() -> Sequence[type[SQLModel]]:
    return [Task, IdempotencyKey]


@hookimpl
def change_serializers(context: Context) -> Sequence[ChangeSerializer]:
    return [SERIALIZER]


@hookimpl
def lifespan(context: Context) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def purging(app: FastAPI) -> AsyncIterator[None]:
        purger = asyncio.create_task(purge_forever(app.state.database))
        try:
            yield
        finally:
            purger.cancel()
            with suppress(asyncio.CancelledError):
                await purger

    return purging
