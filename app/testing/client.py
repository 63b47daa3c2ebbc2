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

from app.testing.statements import marking


class AppClient(httpx.AsyncClient):
    """An httpx client bound to one app, which it keeps as `app` (for its route table, its
    database, its context)."""

    def __init__(self, app: FastAPI, **kwargs: Any) -> None:
        # Marked, so the `statements` fixture counts what the requests send and nothing else.
        transport = httpx.ASGITransport(app=marking(app), raise_app_exceptions=False)
        super().__init__(transport=transport, base_url="http://testserver", **kwargs)
        self.app = app


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[AppClient]:
    """Run the app's lifespan and give a client that talks to it."""
    async with app.router.lifespan_context(app), AppClient(app) as client:
        yield client
