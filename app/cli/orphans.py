"""Task: T-118, T-244, T-275
Spec: specs/features/plugins.md §Orphaned branches

`todo-api drop-orphan`: an orphaned branch's recorded tables dropped, and the branch forgotten.
"""

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.cli import branches
from app.cli.branches import Branches, Orphan
from app.cli.upgrade import LOCK_KEY
from app.core.db.migrations import RECORDS, Migrations
from app.core.errors import ConfigError

_FORGET = text(f"DELETE FROM {RECORDS} WHERE branch = :branch")


def orphan(state: Branches, branch: str) -> Orphan:
    """Orphaned branch `branch`; a `ConfigError` listing the orphans when it is not one."""
    for found in state.orphans:
        if found.branch == branch:
            return found
    orphans = ", ".join(found.branch for found in state.orphans) or "none"
    raise ConfigError(f"{branch!r} is not an orphaned branch (orphaned: {orphans})")


async def drop(migrations: Migrations, engine: AsyncEngine, name: str) -> Orphan:
    """Drop orphaned branch `name`'s tables and forget it, under the migration lock."""
    async with engine.begin() as connection:
        await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        return await connection.run_sync(_drop, migrations, name)


def _drop(connection: Connection, migrations: Migrations, name: str) -> Orphan:
    """Drop the recorded tables (one `DROP TABLE`, no `CASCADE`); the heads the orphan's row
    stood for take its place in `alembic_version`."""
    branches.create_records(connection)
    found = Branches.read(connection, migrations)
    dropped = orphan(found, name)
    if dropped.tables is None:
        raise ConfigError(
            f"no record of the tables branch {name!r} created (it was migrated before "
            f"todo-api kept one): drop them by hand, then delete {dropped.revision!r} from "
            "alembic_version"
        )
    if dropped.tables:
        # No CASCADE: a table of another plugin that references these stops the drop.
        try:
            connection.execute(text(f"DROP TABLE {', '.join(map(_quoted, dropped.tables))}"))
        except DBAPIError as exc:
            raise ConfigError(f"cannot drop branch {name!r}'s tables: {exc.orig}") from None
    branches.set_aside(connection, found)
    connection.execute(_FORGET, {"branch": name})
    return dropped


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
