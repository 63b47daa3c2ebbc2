"""Task: T-009, T-064, T-118, T-459
Spec: specs/features/plugins.md §Migrations

The upgrade: every enabled plugin's branch to its head, in one transaction under a lock.
"""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from alembic import command
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.cli import branches
from app.cli.branches import Branches
from app.core.db.migrations import Migrations

# pg_advisory_xact_lock key ("todo-api" as a number): instances starting together migrate
# one after another. A transaction-level lock, because a session-level one is unsafe behind a
# transaction-mode pooler such as Neon's.
LOCK_KEY = 0x746F646F617069
logger = logging.getLogger("todo_api")
_ALEMBIC = logging.getLogger("alembic")


@contextmanager
def _alembic_quiet() -> Iterator[Callable[[bool], None]]:
    """Alembic's INFO lines ("Context impl PostgresqlImpl.") held back, but after `speak(True)`."""
    level = _ALEMBIC.level
    quiet = max(level, logging.WARNING)

    def speak(loud: bool) -> None:
        _ALEMBIC.setLevel(level if loud else quiet)

    speak(False)
    try:
        yield speak
    finally:
        _ALEMBIC.setLevel(level)


@dataclass(frozen=True)
class Step:
    """One plugin's branch moved by an upgrade, from `before` (None: never migrated)."""

    plugin: str
    before: str | None
    after: str

    def __str__(self) -> str:
        return f"{self.plugin}: {self.before or 'base'} -> {self.after}"


async def upgrade(
    migrations: Migrations,
    engine: AsyncEngine,
    then: Callable[[Connection], None] | None = None,
) -> list[Step]:
    """Every enabled plugin's branch to its head, in one transaction under a lock, then `then`
    in it; return what moved."""
    async with engine.begin() as connection:
        await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        with _alembic_quiet() as speak:
            return await connection.run_sync(_upgrade, migrations, speak, then)


def _upgrade(
    connection: Connection,
    migrations: Migrations,
    speak: Callable[[bool], None],
    then: Callable[[Connection], None] | None,
) -> list[Step]:
    # Read inside the lock: another instance may have migrated while we waited for it.
    branches.create_records(connection)
    before = Branches.read(connection, migrations)
    before.check_not_ahead()
    orphans = before.orphans
    for orphan in orphans:
        logger.warning("%s", orphan)
    added = branches.set_aside(connection, before) if before.unknown else []
    changes = branches.TableChanges(connection)
    config = migrations.config
    config.attributes.update(connection=connection, on_version_apply=changes)
    try:
        for name, head in migrations.heads.items():
            # Start-up is quiet when nothing migrates: alembic speaks for a branch that moves.
            speak(before.position(name) != head)
            command.upgrade(config, f"{name}@head")
        speak(False)
    finally:
        del config.attributes["connection"], config.attributes["on_version_apply"]
    if then is not None:
        then(connection)
    after = Branches.read(connection, migrations)
    branches.record(connection, before, after, changes)
    if before.unknown:
        branches.put_back(connection, orphans, added)
    moved = ((name, before.position(name), after.position(name)) for name in migrations.heads)
    return [Step(name, old, new) for name, old, new in moved if new is not None and old != new]


async def inspect(migrations: Migrations, engine: AsyncEngine) -> Branches:
    """What the database holds, read without changing anything."""
    async with engine.connect() as connection:
        with _alembic_quiet():
            return await connection.run_sync(Branches.read, migrations)
