"""Task: T-137
Spec: specs/api/rest-endpoints.md §Changes

Fixtures for the change feed tests: the tasks tests' signed-in users, the feed read page by
page to its end, apps served by uvicorn on this test's database, and Server-Sent Events.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import uvicorn
from fastapi import FastAPI

from app.core import Database
from app.core.app import create_app
from app.core.plugins.loading import load
from app.core.plugins.plugins_file import PluginsFile
from app.testing.database import libpq_url, settings_for
from harness.server import free_port
from tests.plugins.tasks.conftest import (  # noqa: F401 (fixtures shared with the tasks tests)
    QUIET,
    User,
    alice,
    bob,
    client,
    user_factory,
)

CHANGES = "/api/v1/changes"


async def feed(user: User, since: str | None = None, **params: Any) -> tuple[list[dict], str]:
    """Every change the feed hands `user` after `since`, following `more`, and the last `next`."""
    entries: list[dict] = []
    while True:
        query = {**params, **({"since": since} if since is not None else {})}
        response = await user.get(CHANGES, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        entries += page["changes"]
        since = page["next"]
        if not page["more"]:
            return entries, since


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """The kernel's `Database` on this test's database, for work outside a request."""
    pool = await asyncpg.create_pool(libpq_url(database_url), min_size=0, max_size=4)
    try:
        yield Database(pool)
    finally:
        await pool.close()


@asynccontextmanager
async def live(app: FastAPI) -> AsyncIterator[str]:
    """Serve `app` with uvicorn on a free loopback port, in this event loop; yield its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("uvicorn stopped during start-up")
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        await task


ServerMaker = Callable[..., Awaitable[tuple[str, FastAPI]]]


@pytest.fixture
async def make_server(database_url: str, tmp_path: Path) -> AsyncIterator[ServerMaker]:
    """`await make_server(tables, **settings)`: an app on this test's database, served by uvicorn
    (`tables`: plugins.toml's per-plugin settings). Apps
    share the JWT secret, so a user signed up on one is known to the others."""
    async with AsyncExitStack() as stack:

        async def make(
            tables: dict[str, dict[str, Any]] | None = None, **overrides: Any
        ) -> tuple[str, FastAPI]:
            settings = settings_for(database_url, tmp_path, **overrides)
            app = create_app(
                settings, load(settings, PluginsFile(enabled=QUIET, tables=tables or {}))
            )
            return await stack.enter_async_context(live(app)), app

        yield make
