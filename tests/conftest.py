"""Task: T-016
Spec: specs/features/plugins.md §Testing

Shared fixtures: one real PostgreSQL server per run (the embedded one, or `TEST_DATABASE_URL`),
a fresh database per test cloned from a migrated template, and apps built on it.

Never SQLite, never a mocked session: every test talks to PostgreSQL over a real connection.
"""

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import make_url

from app.core.app import create_app
from app.core.cli import migrate_database
from app.core.embedded import start as start_embedded
from app.core.plugins import load
from app.core.plugins_file import DEFAULT_ENABLED, PluginsFile
from app.core.settings import Settings

TEMPLATE = "todo_template"
# Long enough for any test setting; never used outside tests.
TEST_SECRET = "test-secret-key-with-at-least-32-bytes!"


def _server_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if url := os.environ.get("TEST_DATABASE_URL"):
        return url
    return start_embedded(tmp_path_factory.mktemp("postgres"))


def with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


async def _admin(url: str, sql: str) -> None:
    # asyncpg takes libpq-style URLs; the `host` query parameter points at a Unix socket.
    connection = await asyncpg.connect(
        make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _server_url(tmp_path_factory)


def settings_for(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "jwt_secret_key": TEST_SECRET,
        "plugins_file": tmp_path / "plugins.toml",
        "data_dir": tmp_path / "data",
    }
    return Settings(_env_file=None, **(values | overrides))  # type: ignore[call-arg]


@pytest.fixture(scope="session")
async def template_url(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database with every installed plugin migrated, cloned by each test."""
    await _admin(server_url, f"DROP DATABASE IF EXISTS {TEMPLATE}")
    await _admin(server_url, f"CREATE DATABASE {TEMPLATE}")
    url = with_database(server_url, TEMPLATE)
    everything = PluginsFile(enabled=(*DEFAULT_ENABLED, "notes"))
    await migrate_database(load(settings_for(url, tmp_path_factory.mktemp("template")), everything))
    return url


async def _fresh(server_url: str, template: str | None) -> str:
    name = f"test_{uuid.uuid4().hex[:12]}"
    clone = f" TEMPLATE {template}" if template else ""
    await _admin(server_url, f"CREATE DATABASE {name}{clone}")
    return with_database(server_url, name)


@pytest.fixture
async def database_url(server_url: str, template_url: str) -> AsyncIterator[str]:
    """A fresh, fully migrated database for this test alone."""
    url = await _fresh(server_url, TEMPLATE)
    yield url
    await _admin(server_url, f"DROP DATABASE IF EXISTS {make_url(url).database} WITH (FORCE)")


@pytest.fixture
async def empty_database_url(server_url: str) -> AsyncIterator[str]:
    """A fresh database with no tables at all."""
    url = await _fresh(server_url, None)
    yield url
    await _admin(server_url, f"DROP DATABASE IF EXISTS {make_url(url).database} WITH (FORCE)")


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan and give a client that talks to it in-process over ASGI."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


AppMaker = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def make_client(database_url: str, tmp_path: Path) -> AsyncIterator[AppMaker]:
    """Build an app on this test's database: `await make_client(enabled=[...], extra={...})`."""
    async with AsyncExitStack() as stack:

        async def make(
            enabled: tuple[str, ...] = DEFAULT_ENABLED,
            tables: Mapping[str, dict[str, Any]] | None = None,
            extra: Mapping[str, object] | None = None,
            url: str | None = None,
            **overrides: Any,
        ) -> httpx.AsyncClient:
            settings = settings_for(url or database_url, tmp_path, **overrides)
            context = load(
                settings, PluginsFile(enabled=tuple(enabled), tables=dict(tables or {})), extra
            )
            return await stack.enter_async_context(serving(create_app(settings, context)))

        yield make


@pytest.fixture
async def client(make_client: AppMaker) -> httpx.AsyncClient:
    """The default app: every built-in plugin, on a fresh migrated database."""
    return await make_client()
