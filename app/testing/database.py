"""Task: T-112, T-276
Spec: specs/features/plugins.md §Testing

Throwaway databases for tests: one PostgreSQL server per run (the embedded one in a temporary
folder, or the server at `TEST_DATABASE_URL`), a template database migrated once per set of
plugins, and a clone of it for each test (`CREATE DATABASE … TEMPLATE`, far quicker than
migrating again), dropped afterwards.
"""

import hashlib
import os
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import make_url

from app.cli.commands import migrate_database
from app.cli.embedded import start as start_embedded
from app.core.plugins.loading import load
from app.core.plugins.plugins_file import PluginsFile
from app.core.settings import Settings

# Long enough for any JWT algorithm; never used outside tests.
TEST_SECRET = "test-secret-key-with-at-least-32-bytes!"


def server_url(folder: Path) -> str:
    """`TEST_DATABASE_URL`, or an embedded server whose data lives in `folder`."""
    return os.environ.get("TEST_DATABASE_URL") or start_embedded(folder)


def with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def libpq_url(url: str) -> str:
    """The URL as asyncpg takes it (`postgresql://`; a Unix socket as the `host` parameter)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def admin(url: str, sql: str) -> None:
    connection = await asyncpg.connect(libpq_url(url))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def settings_for(
    database_url: str,
    folder: Path,
    environment: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Settings for an app under test: this database, files kept in `folder` (a plugins file
    that does not exist, so nothing of the developer's is read), and in place of the
    developer's `.env` one in `folder` with `JWT_SECRET_KEY=TEST_SECRET` and `environment`:
    the variables plugins' settings are read from, as an operator would set them.
    `overrides` are the kernel's own settings, by field name."""
    variables = {"JWT_SECRET_KEY": TEST_SECRET} | dict(environment or {})
    lines = []
    for name, value in variables.items():
        # Single quotes keep the value as written; they cannot hold a quote or a line break.
        assert "'" not in value and "\n" not in value, f"{name}: no quote or line break, please"
        lines.append(f"{name}='{value}'\n")
    text = "".join(lines)
    env_file = folder / f"test-{hashlib.sha1(text.encode()).hexdigest()[:10]}.env"
    folder.mkdir(parents=True, exist_ok=True)
    env_file.write_text(text)
    values: dict[str, Any] = {
        "database_url": database_url,
        "plugins_file": folder / "plugins.toml",
        "data_dir": folder / "data",
    }
    return Settings(_env_file=env_file, **(values | overrides))


class Templates:
    """Migrated template databases on one server, made on first use, one per set of plugins."""

    def __init__(self, server: str, folder: Path) -> None:
        self.server = server
        self.folder = folder
        self._made: dict[tuple[str, ...], str] = {}

    async def template(self, plugins: tuple[str, ...]) -> str:
        """The name of a database with `plugins` migrated."""
        if plugins not in self._made:
            digest = hashlib.sha1(",".join(plugins).encode()).hexdigest()[:10]
            name = f"todo_template_{digest}"
            await admin(self.server, f"DROP DATABASE IF EXISTS {name}")
            await admin(self.server, f"CREATE DATABASE {name}")
            settings = settings_for(with_database(self.server, name), self.folder)
            await migrate_database(load(settings, PluginsFile(enabled=plugins)))
            self._made[plugins] = name
        return self._made[plugins]

    async def clone(self, template: str | None) -> str:
        """The URL of a new database: a copy of `template`, or empty (None)."""
        name = f"test_{uuid.uuid4().hex[:12]}"
        await admin(
            self.server, f"CREATE DATABASE {name}{f' TEMPLATE {template}' if template else ''}"
        )
        return with_database(self.server, name)

    async def drop(self, url: str) -> None:
        await admin(self.server, f"DROP DATABASE IF EXISTS {make_url(url).database} WITH (FORCE)")
