"""Task: T-112, T-276
Spec: specs/features/plugins.md §Testing

The test kit's fixtures, loaded into every pytest run where `todo-api` is installed (the
`pytest11` entry point `todo_api`); nothing starts until a test asks for a fixture.

Override `todo_api_plugins` in your `conftest.py` to say which plugins the app enables and the
databases are migrated for (your plugin, and what it requires):

    @pytest.fixture(scope="session")
    def todo_api_plugins() -> tuple[str, ...]:
        return ("health", "auth", "notes")

Async fixtures run on the session's event loop (the app's pool lives there): set
`asyncio_default_test_loop_scope = "session"` for pytest-asyncio, as the scaffold does.
"""

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from fastapi import FastAPI

from app.core.app import create_app
from app.core.plugins.loading import load
from app.core.plugins.plugins_file import DEFAULT_ENABLED, PluginsFile
from app.testing.client import AppClient, serving
from app.testing.database import Templates, libpq_url, server_url, settings_for
from app.testing.statements import Statements, counting
from app.testing.users import ApiUser, MakeUser, sign_up

AppMaker = Callable[..., Awaitable[AppClient]]


@pytest.fixture(scope="session")
def todo_api_plugins() -> tuple[str, ...]:
    """The plugins the app enables and the test databases are migrated for."""
    return DEFAULT_ENABLED


@pytest.fixture(scope="session")
def todo_api_templates(tmp_path_factory: pytest.TempPathFactory) -> Templates:
    """The run's PostgreSQL server, and its migrated template databases."""
    folder = tmp_path_factory.mktemp("postgres")
    return Templates(server_url(folder), tmp_path_factory.mktemp("templates"))


@pytest_asyncio.fixture(loop_scope="session")
async def database_url(
    todo_api_templates: Templates, todo_api_plugins: tuple[str, ...]
) -> AsyncIterator[str]:
    """A fresh database for this test alone, with `todo_api_plugins` migrated."""
    url = await todo_api_templates.clone(await todo_api_templates.template(todo_api_plugins))
    yield url
    await todo_api_templates.drop(url)


@pytest_asyncio.fixture(loop_scope="session")
async def empty_database_url(todo_api_templates: Templates) -> AsyncIterator[str]:
    """A fresh database with no tables at all."""
    url = await todo_api_templates.clone(None)
    yield url
    await todo_api_templates.drop(url)


@pytest_asyncio.fixture(loop_scope="session")
async def make_client(
    database_url: str, tmp_path: Path, todo_api_plugins: tuple[str, ...]
) -> AsyncIterator[AppMaker]:
    """Build and serve an app on this test's database:
    `await make_client(enabled=(...), tables={"<plugin>": {...}}, environment={"NAME": "..."},
    extra={...}, url=..., **settings)` (by default `todo_api_plugins`, the test's database,
    test settings). A plugin's settings are overridden as an operator sets them: its
    plugins.toml table in `tables`, its environment variables in `environment` (secrets
    there); `settings` are the kernel's, by field name."""
    async with AsyncExitStack() as stack:

        async def make(
            enabled: tuple[str, ...] = todo_api_plugins,
            tables: Mapping[str, dict[str, Any]] | None = None,
            extra: Mapping[str, object] | None = None,
            url: str | None = None,
            environment: Mapping[str, str] | None = None,
            **overrides: Any,
        ) -> AppClient:
            settings = settings_for(url or database_url, tmp_path, environment, **overrides)
            plugins_file = PluginsFile(enabled=tuple(enabled), tables=dict(tables or {}))
            app = create_app(settings, load(settings, plugins_file, extra))
            return await stack.enter_async_context(serving(app))

        yield make


@pytest_asyncio.fixture(loop_scope="session")
async def client(make_client: AppMaker) -> AppClient:
    """The app with `todo_api_plugins` enabled, migrated, serving; `client.app` is the app."""
    return await make_client()


@pytest.fixture
def app(client: AppClient) -> FastAPI:
    return client.app


@pytest.fixture
def make_user(client: AppClient) -> MakeUser:
    """`await make_user()`: a new user of `client`'s app, signed up and logged in through the
    auth plugin, with a real access token."""
    return lambda: sign_up(client, ApiUser)


@pytest_asyncio.fixture(loop_scope="session")
async def db(database_url: str) -> AsyncIterator["asyncpg.Connection[asyncpg.Record]"]:
    """A direct connection to this test's database, to look behind the API."""
    connection = await asyncpg.connect(libpq_url(database_url))
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture
def statements() -> Iterator[Statements]:
    """What the test client's requests send to PostgreSQL, counted at the driver; never the
    app's own background work (job worker, consumers): `statements.clear()`, a request, then
    `assert statements.verbs() == ["INSERT"]`."""
    with counting() as sent:
        yield sent
