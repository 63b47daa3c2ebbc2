"""Task: T-009, T-064, T-068, T-115, T-118, T-459
Spec: specs/features/plugins.md §Migrations

Per-plugin Alembic branches, configured in Python: each enabled plugin's head, and whether the
database is at it. Upgrading is the command line's (`app.cli.upgrade`).
"""

import importlib.util
import os
from collections.abc import Collection, Iterable
from functools import cached_property
from pathlib import Path
from typing import Protocol

import asyncpg
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import text

from app.core.db.pool import Executor

# The kernel's record of each branch's position, written by every upgrade (`app.cli.branches`).
RECORDS = "todo_api_branches"
# Readiness, in one round trip: which revisions the database has.
_APPLIED = text("SELECT coalesce(array_agg(version_num), '{}') FROM alembic_version")
# Only when alembic_version names an orphan's revision: the positions the kernel recorded.
_RECORDED = text(f"SELECT revision FROM {RECORDS}")


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
        self._ancestors: dict[str, frozenset[str]] = {}

    @cached_property
    def script(self) -> ScriptDirectory:
        return ScriptDirectory.from_config(self.config)

    @cached_property
    def labels(self) -> frozenset[str]:
        """Every branch an installed plugin ships."""
        walk = self.script.walk_revisions()
        return frozenset(label for revision in walk for label in revision.branch_labels)

    @cached_property
    def heads(self) -> dict[str, str]:
        """The head revision of each enabled plugin that has migrations, by plugin name."""
        return {
            name: self.script.get_revision(f"{name}@head").revision
            for name in self.enabled
            if name in self.labels
        }

    def ships(self, revision: str) -> bool:
        """Whether an installed plugin ships `revision`."""
        try:
            self.script.get_revision(revision)
        except CommandError:
            return False
        return True

    def ancestry(self, revision: str) -> frozenset[str]:
        """`revision` and every revision it needs (down revisions and `depends_on`)."""
        if revision not in self._ancestors:
            walk = self.script.iterate_revisions(revision, "base")
            self._ancestors[revision] = frozenset(r.revision for r in walk)
        return self._ancestors[revision]

    def applied_heads(self, rows: Collection[str], recorded: Iterable[str] = ()) -> list[str]:
        """The heads the database has applied: `alembic_version`'s rows that an installed plugin
        ships, and, when a row is an orphan's (it may stand for other branches' heads), the
        positions the kernel recorded."""
        known = [row for row in rows if self.ships(row)]
        if len(known) == len(rows):
            return known
        return list(dict.fromkeys([*known, *filter(self.ships, recorded)]))

    def applied(self, rows: Collection[str], recorded: Iterable[str] = ()) -> frozenset[str]:
        """Every revision the database has applied, among those the installed plugins ship."""
        heads = self.applied_heads(rows, recorded)
        return frozenset().union(*map(self.ancestry, heads))

    async def behind_now(self, db: Executor) -> list[str]:
        """`behind`, read now: one statement, and one more only when an orphan's revision needs
        the kernel's records."""
        try:
            rows: list[str] = await db.fetchval(_APPLIED)
        except asyncpg.UndefinedTableError:
            rows = []
        recorded: list[str] = []
        if not all(map(self.ships, rows)):
            recorded = [row["revision"] for row in await db.fetch(_RECORDED)]
        return self.behind(self.applied(rows, recorded))

    def behind(self, applied: Collection[str]) -> list[str]:
        """Enabled plugins whose migrations are not at head; a head reached through another
        branch's `depends_on` counts."""
        return [name for name, head in self.heads.items() if head not in applied]
