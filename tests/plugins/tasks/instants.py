"""Task: T-204
Spec: specs/api/rest-endpoints.md §Limits; specs/database/schema.md

The instants at the range's edges, spelled in UTC and in the zones furthest from it, each with
the instant one microsecond beyond; a check that every datetime an answer holds carries its
offset; and the built-ins' migrations run back and forth, to test a repair.
"""

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import Connection

from app.cli.commands import migrate_database
from app.cli.connectivity import create_engine
from app.core import Context
from app.core.plugins.loading import load
from app.core.plugins.plugins_file import DEFAULT_ENABLED, PluginsFile
from app.testing.database import settings_for

# (at the edge, one microsecond beyond it)
BOUNDS = [
    ("0001-01-02T00:00:00Z", "0001-01-01T23:59:59.999999Z"),
    ("0001-01-02T14:00:00+14:00", "0001-01-02T13:59:59.999999+14:00"),
    ("9999-12-30T23:59:59.999999Z", "9999-12-31T00:00:00Z"),
    ("9999-12-30T11:59:59.999999-12:00", "9999-12-30T12:00:00-12:00"),
]
BOUND_IDS = ["earliest", "earliest+14:00", "latest", "latest-12:00"]
# The calendar's own edges (what asyncpg stored as -infinity and infinity), and an instant UTC
# cannot hold at all.
CALENDAR_EDGES = [
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999Z",
    "0001-01-01T00:00:00+14:00",
]

_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def utc(value: str) -> str:
    """`value` as the API answers it: in UTC, with `Z`."""
    return datetime.fromisoformat(value).astimezone(UTC).isoformat().replace("+00:00", "Z")


def naked_datetimes(value: Any) -> list[str]:
    """Every datetime in a JSON value that does not end with `Z` (none should)."""
    if isinstance(value, dict):
        return [found for item in value.values() for found in naked_datetimes(item)]
    if isinstance(value, list):
        return [found for item in value for found in naked_datetimes(item)]
    if isinstance(value, str) and _DATETIME.match(value) and not value.endswith("Z"):
        return [value]
    return []


def _context(url: str, folder: Path) -> Context:
    return load(settings_for(url, folder), PluginsFile(enabled=DEFAULT_ENABLED))


async def downgrade(url: str, folder: Path, *revisions: str) -> None:
    """Take the built-ins' branches back to `revisions`, in order: the database as it was before
    a repair, to write into it what the repair mends."""
    context = _context(url, folder)
    config = context.migrations.config
    engine = create_engine(context.settings, url)

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        try:
            for revision in revisions:
                if revision not in context.migrations.heads.values():  # else nothing to undo
                    command.downgrade(config, revision)
        finally:
            del config.attributes["connection"]

    try:
        async with engine.begin() as connection:
            await connection.run_sync(run)
    finally:
        await engine.dispose()


async def upgrade(url: str, folder: Path) -> None:
    """Migrate the built-ins to their heads, as `todo-api migrate` does."""
    await migrate_database(_context(url, folder))
