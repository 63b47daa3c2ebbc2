"""Task: T-009, T-064, T-068, T-115, T-118
Spec: specs/features/plugins.md §Migrations

The migration runner: per-plugin Alembic branches, configured in Python.
"""

import importlib.util
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Protocol

import asyncpg
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.db import branches
from app.core.db.branches import Branches, Record
from app.core.db.pool import Executor

# pg_advisory_xact_lock key ("todo-api" as a number): instances starting together migrate
# one after another. A transaction-level lock, because a session-level one is unsafe behind a
# transaction-mode pooler such as Neon's.
LOCK_KEY = 0x746F646F617069
# Readiness, in one round trip: which revisions the database has.
_APPLIED = text("SELECT coalesce(array_agg(version_num), '{}') FROM alembic_version")
# Only when alembic_version names an orphan's revision: the positions the kernel recorded.
_RECORDED = text(f"SELECT branch, revision FROM {branches.TABLE}")
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


def script_location() -> Path:
    """The `migrations/` folder: at the top of a checkout, or `app.migrations` in a wheel."""
    checkout = Path(__file__).resolve().parents[3] / "migrations"
    if (checkout / "env.py").is_file():
        return checkout
    # A namespace package (the folder has no __init__.py), so it has locations but no origin.
    spec = importlib.util.find_spec("app.migrations")
    assert spec is not None and spec.submodule_search_locations, "installed without migrations"
    return Path(next(iter(spec.submodule_search_locations)))


class Source(Protocol):
    """A plugin whose revisions Alembic is shown: installed, or a checkout (`todo-api revision`)."""

    @property
    def name(self) -> str: ...

    @property
    def migrations_dir(self) -> Path | None: ...


@dataclass(frozen=True)
class Step:
    """One plugin's branch moved by an upgrade, from `before` (None: never migrated)."""

    plugin: str
    before: str | None
    after: str

    def __str__(self) -> str:
        return f"{self.plugin}: {self.before or 'base'} -> {self.after}"


class Migrations:
    """The Alembic view of the installed plugins, and what the enabled ones need."""

    def __init__(self, installed: Iterable[Source], enabled: Iterable[str]) -> None:
        plugins = list(installed)
        self.installed = frozenset(plugin.name for plugin in plugins)
        self.config = Config()
        self.config.set_main_option("script_location", str(script_location()))
        self.config.set_main_option("path_separator", "os")
        locations = [str(p.migrations_dir) for p in plugins if p.migrations_dir is not None]
        self.config.set_main_option("version_locations", os.pathsep.join(locations))
        self.enabled = tuple(enabled)

    @cached_property
    def script(self) -> ScriptDirectory:
        return ScriptDirectory.from_config(self.config)

    @cached_property
    def heads(self) -> dict[str, str]:
        """The head revision of each enabled plugin that has migrations, by plugin name."""
        labels = {
            label for revision in self.script.walk_revisions() for label in revision.branch_labels
        }
        return {
            name: self.script.get_revision(f"{name}@head").revision
            for name in self.enabled
            if name in labels
        }

    async def upgrade(
        self, engine: AsyncEngine, then: Callable[[Connection], None] | None = None
    ) -> list[Step]:
        """Every enabled plugin's branch to its head, in one transaction under a lock, then
        `then` in it; return what moved."""
        async with engine.begin() as connection:
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
            with _alembic_quiet() as speak:
                return await connection.run_sync(self._upgrade, speak, then)

    def _upgrade(
        self,
        connection: Connection,
        speak: Callable[[bool], None],
        then: Callable[[Connection], None] | None = None,
    ) -> list[Step]:
        # Read inside the lock: another instance may have migrated while we waited for it.
        branches.create_records(connection)
        before = self.read(connection)
        before.check_not_ahead()
        orphans = before.orphans
        for orphan in orphans:
            logger.warning("%s", orphan)
        added = branches.set_aside(connection, before) if before.unknown else []
        changes = branches.TableChanges(connection)
        self.config.attributes.update(connection=connection, on_version_apply=changes)
        try:
            for name, head in self.heads.items():
                # Start-up is quiet when nothing migrates: alembic speaks for a branch that moves.
                speak(before.position(name) != head)
                command.upgrade(self.config, f"{name}@head")
            speak(False)
        finally:
            del self.config.attributes["connection"], self.config.attributes["on_version_apply"]
        if then is not None:
            then(connection)
        after = self.read(connection)
        branches.record(connection, before, after, changes)
        if before.unknown:
            branches.put_back(connection, orphans, added)
        moved = ((name, before.position(name), after.position(name)) for name in self.heads)
        return [Step(name, old, new) for name, old, new in moved if new is not None and old != new]

    async def inspect(self, engine: AsyncEngine) -> Branches:
        """What the database holds, read without changing anything."""
        async with engine.connect() as connection:
            with _alembic_quiet():
                return await connection.run_sync(self.read)

    def read(self, connection: Connection) -> Branches:
        return Branches.read(connection, self.script, self.installed)

    def branches(
        self, current: Iterable[str], records: Mapping[str, Record] | None = None
    ) -> Branches:
        """The branches of `alembic_version`'s rows (and, for an orphan's, the kernel's records)."""
        return Branches(self.script, current, records or {}, self.installed)

    async def behind_now(self, db: Executor) -> list[str]:
        """`behind`, read now: one statement, and one more only when an orphan's revision needs
        the kernel's records."""
        try:
            state = self.branches(await db.fetchval(_APPLIED))
        except asyncpg.UndefinedTableError:
            state = self.branches([])
        if state.unknown:
            records = {
                row["branch"]: Record(row["revision"], None) for row in await db.fetch(_RECORDED)
            }
            state = self.branches(state.rows, records)
        return self.behind(state)

    def behind(self, state: Branches) -> list[str]:
        """Enabled plugins whose migrations are not at head; a head reached through another
        branch's `depends_on` counts."""
        return [name for name, head in self.heads.items() if head not in state.applied]
