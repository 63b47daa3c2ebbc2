"""Task: T-112
Spec: specs/features/plugins.md §Testing

An app driven in-process: its lifespan runs (the pool opens, plugin lifespans start) and an
httpx client talks to it over ASGI, no socket in between.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from app.testing.statements import serving_a_request


class _Marking(httpx.ASGITransport):
    """Serves each request in the caller's task, marked: the `statements` fixture counts what
    the requests send and nothing else."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        with serving_a_request():
            return await super().handle_async_request(request)


class AppClient(httpx.AsyncClient):
    """An httpx client bound to one app, which it keeps as `app` (for its route table, its
    database, its context)."""

    def __init__(self, app: FastAPI, **kwargs: Any) -> None:
        transport = _Marking(app=app, raise_app_exceptions=False)
        super().__init__(transport=transport, base_url="http://testserver", **kwargs)
        self.app = app


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[AppClient]:
    """Run the app's lifespan and give a client that talks to it."""
    async with app.router.lifespan_context(app), AppClient(app) as client:
        yield client
