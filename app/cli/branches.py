"""Task: T-117, T-118, T-459
Spec: specs/features/plugins.md §Orphaned branches

The branches the database holds, read against the revisions the installed plugins ship, and the kernel's own record of each branch (`todo_api_branches`).
"""

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from alembic.migration import MigrationContext, MigrationInfo
from sqlalchemy import Connection, bindparam, inspect, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Text

from app.core.db.migrations import RECORDS, Migrations
from app.core.errors import ConfigError

_CREATE = text(
    f"CREATE TABLE IF NOT EXISTS {RECORDS} ("
    " branch text PRIMARY KEY,"
    " revision text NOT NULL,"
    " tables text[],"  # NULL: not known (the branch was migrated before it was recorded)
    " migrated_at timestamptz NOT NULL DEFAULT now())"
)
_READ = text(f"SELECT branch, revision, tables FROM {RECORDS}")
_WRITE = text(
    f"INSERT INTO {RECORDS} (branch, revision, tables) VALUES (:branch, :revision, :tables) "
    "ON CONFLICT (branch) DO UPDATE SET revision = excluded.revision, tables = excluded.tables, "
    "migrated_at = now()"
).bindparams(bindparam("tables", type_=ARRAY(Text)))
_TABLES = text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
_ROWS_OUT = text("DELETE FROM alembic_version WHERE version_num = ANY(:revisions)").bindparams(
    bindparam("revisions", type_=ARRAY(Text))
)
_ROW_IN = text("INSERT INTO alembic_version (version_num) VALUES (:revision)")


@dataclass(frozen=True)
class Record:
    """A branch as the kernel last migrated it."""

    revision: str
    tables: tuple[str, ...] | None  # None: not known


@dataclass(frozen=True)
class Orphan:
    """A branch recorded in the database whose plugin is not installed."""

    branch: str
    revision: str
    tables: tuple[str, ...] | None

    def __str__(self) -> str:
        tables = "not recorded" if self.tables is None else ", ".join(self.tables) or "none"
        return (
            f"branch {self.branch!r} ({self.revision}) is in the database but no installed "
            f"plugin ships it; its tables ({tables}) are left alone: reinstall the plugin, or "
            f"drop them with `todo-api drop-orphan {self.branch} --yes`"
        )


class Branches:
    """`alembic_version`'s rows and the kernel's records, read against the installed revisions."""

    def __init__(
        self, migrations: Migrations, rows: Iterable[str], records: Mapping[str, Record]
    ) -> None:
        self.migrations = migrations
        self.records = dict(records)
        self.rows = tuple(rows)
        self.known = [row for row in self.rows if migrations.ships(row)]
        self.unknown = [row for row in self.rows if row not in self.known]
        # An installed plugin is no orphan, even one whose package lost its migrations.
        self.installed = migrations.labels | migrations.installed

    @classmethod
    def read(cls, connection: Connection, migrations: Migrations) -> "Branches":
        rows = MigrationContext.configure(connection).get_current_heads()
        records: dict[str, Record] = {}
        if inspect(connection).has_table(RECORDS):
            for branch, revision, tables in connection.execute(_READ):
                records[branch] = Record(revision, None if tables is None else tuple(tables))
        return cls(migrations, rows, records)

    def branch_of(self, revision: str) -> str:
        """The branch an unknown revision belongs to: as recorded, else by its `<name>_NNNN`."""
        for branch, record in self.records.items():
            if record.revision == revision:
                return branch
        return revision.rpartition("_")[0] or revision

    @property
    def orphans(self) -> list[Orphan]:
        found = []
        for revision in self.unknown:
            branch = self.branch_of(revision)
            if branch not in self.installed:
                record = self.records.get(branch)
                found.append(Orphan(branch, revision, record.tables if record else None))
        return found

    def check_not_ahead(self) -> None:
        """Stop when an installed plugin lacks a revision the database has (it is too old)."""
        for revision in self.unknown:
            branch = self.branch_of(revision)
            if branch in self.installed:
                raise ConfigError(
                    f"the database is at {revision} of plugin {branch!r}, which the installed "
                    f"{branch!r} does not ship: install the version of it that does"
                )

    def _heads(self) -> list[str]:
        return self.migrations.applied_heads(self.rows, self._recorded)

    @property
    def _recorded(self) -> list[str]:
        # A set-aside orphan may stand for other branches' heads: their recorded positions.
        return [record.revision for record in self.records.values()]

    @cached_property
    def applied(self) -> frozenset[str]:
        """Every revision the database has applied, among those the installed plugins ship."""
        return self.migrations.applied(self.rows, self._recorded)

    def view(self) -> list[str]:
        """The rows Alembic must see: the applied heads, none an ancestor of another (Alembic
        refuses overlapping heads)."""
        heads = self._heads()
        below = set().union(*(self.migrations.ancestry(head) - {head} for head in heads))
        return [head for head in heads if head not in below]

    def position(self, branch: str) -> str | None:
        """The newest applied revision of `branch` (None: not applied)."""
        # Alembic labels every revision of a branch with the branch's name; newest first.
        for revision in self.migrations.script.iterate_revisions(f"{branch}@head", "base"):
            if branch in revision.branch_labels and revision.revision in self.applied:
                return revision.revision
        return None


class TableChanges:
    """The tables each branch creates and drops, seen after every step (`on_version_apply`)."""

    def __init__(self, connection: Connection) -> None:
        self._tables = _tables(connection)
        self.created: dict[str, set[str]] = defaultdict(set)
        self.dropped: dict[str, set[str]] = defaultdict(set)

    def __call__(
        self,
        ctx: MigrationContext,
        step: MigrationInfo,
        heads: Collection[Any],
        run_args: dict[str, Any],
    ) -> None:
        assert ctx.connection is not None
        tables = _tables(ctx.connection)
        revision = step.up_revision if step.is_upgrade else None
        for branch in revision.branch_labels if revision else ():
            self.created[branch] |= tables - self._tables
            self.dropped[branch] |= self._tables - tables
        self._tables = tables


def _tables(connection: Connection) -> set[str]:
    # Alembic's own table and the kernel's are nobody's branch.
    return set(connection.scalars(_TABLES)) - {"alembic_version", RECORDS}


def create_records(connection: Connection) -> None:
    connection.execute(_CREATE)


def set_aside(connection: Connection, branches: Branches) -> list[str]:
    """Before upgrading: the orphans' rows out, the heads they stood for in (returned)."""
    added = [head for head in branches.view() if head not in branches.known]
    connection.execute(_ROWS_OUT, {"revisions": branches.unknown})
    for head in added:
        connection.execute(_ROW_IN, {"revision": head})
    return added


def put_back(connection: Connection, orphans: list[Orphan], added: list[str]) -> None:
    """After upgrading: the orphans' rows back in, the heads `set_aside` put in out."""
    connection.execute(_ROWS_OUT, {"revisions": added})
    for orphan in orphans:
        connection.execute(_ROW_IN, {"revision": orphan.revision})


def record(
    connection: Connection, before: Branches, after: Branches, changes: TableChanges
) -> None:
    """Write each installed branch's position and tables (an orphan's record stays as it was)."""
    for branch in sorted(after.migrations.labels):
        position = after.position(branch)
        if position is None:
            continue
        previous = before.records.get(branch)
        if previous is not None and previous.tables is not None:
            known: set[str] | None = set(previous.tables)
        else:
            # Tables are known from the branch's first revision on, or not at all.
            known = set() if before.position(branch) is None else None
        tables = (
            None
            if known is None
            else sorted((known | changes.created[branch]) - changes.dropped[branch])
        )
        connection.execute(_WRITE, {"branch": branch, "revision": position, "tables": tables})
