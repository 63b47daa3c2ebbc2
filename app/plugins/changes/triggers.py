"""Task: T-130, T-303, T-340, T-341
Spec: specs/features/plugins.md §Change log; specs/features/sharing.md §The feed

The change log's triggers, attached to every tracked table: what makes the log free for plugin
authors, as `Owned` makes isolation free.

Every `Owned` model an enabled plugin lists in its `models()` hook is tracked unless it opts out
with `__table_args__ = {"info": {"change_feed": False}}` (the log itself, idempotency keys). At
migrate time, inside the migration lock and after the branches are upgraded (the kernel's
`after_upgrade` hook), each tracked table is given the two row triggers calling
`changes_record()`, the function this plugin's migration creates; the function records the
write in the same transaction, so a write costs no round trip more. Attaching is idempotent: a
trigger already there with the same arguments is left alone (no lock is taken on the table), so
every start may run it.

A `Shared` table's triggers also name its container column and its membership (table, container
and member columns): the function writes the change into the feed of every person who can see
the row. Each membership table reached by a tracked table gets the triggers that put a joiner's
new rows, and a leaver's tombstones, into their feed (`changes_membership()`). Everything comes
from the declarations: the plugin names no table.
"""

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, text

from app.core import Access, ConfigError, Membership, Owned

logger = logging.getLogger("todo_api")

FUNCTION = "changes_record"
MEMBERSHIP_FUNCTION = "changes_membership"
CONTAINER_FUNCTION = "changes_container_gone"
# Inserts and deletes always change something; an UPDATE that sets every value to what it was
# is not a change, and is not recorded.
TRIGGERS = {
    "changes_record_write": "AFTER INSERT OR DELETE ON {table} FOR EACH ROW",
    "changes_record_update": (
        "AFTER UPDATE ON {table} FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*)"
    ),
}
# A table whose `info` has `change_feed_create_when` (an SQL condition on NEW) records only the
# inserts meeting it: rows every user has from the start (the default list), stored on first
# need, are no change a client must hear of. A WHEN naming NEW cannot be on a DELETE trigger,
# so inserts get their own.
CONDITIONAL_TRIGGERS = {
    "changes_record_delete": "AFTER DELETE ON {table} FOR EACH ROW",
    "changes_record_create": "AFTER INSERT ON {table} FOR EACH ROW WHEN ({create_when})",
    "changes_record_update": TRIGGERS["changes_record_update"],
}


# On a membership table: joining and leaving (a role change is no change to the rows a member
# sees, and is not in the feed).
MEMBERSHIP_TRIGGERS = {"changes_membership": "AFTER INSERT OR DELETE ON {table} FOR EACH ROW"}
# On a container's table: its members' tombstones, before its deletion cascades.
CONTAINER_TRIGGERS = {"changes_container_gone": "BEFORE DELETE ON {table} FOR EACH ROW"}


def tracked(model: type) -> bool:
    table = getattr(model, "__table__", None)
    return (
        isinstance(model, type)
        and issubclass(model, Owned)
        and isinstance(table, Table)
        and table.info.get("change_feed", True)
    )


def tracked_tables(models: Iterable[type]) -> list[Table]:
    """The tables of the tracked models; each needs a one-column primary key (the change's id)."""
    tables = []
    for model in models:
        if not tracked(model):
            continue
        table: Table = model.__table__  # type: ignore[attr-defined]
        if len(table.primary_key.columns) != 1:
            raise ConfigError(
                f"table {table.name} is Owned with a composite primary key: the change log needs "
                'one id column; opt it out with __table_args__ = {"info": {"change_feed": False}}'
            )
        tables.append(table)
    return tables


def _shared(table: Table) -> Access | None:
    access: Access | None = table.info.get("access")
    return access


def _key(table: Table) -> str:
    return next(iter(table.primary_key.columns)).name


def _arguments(table: Table, quote: Any) -> list[str]:
    """The trigger function's arguments for `table`'s rows."""
    shared = _shared(table)
    if shared is None:
        return [_key(table)]
    membership = shared.membership
    return [
        _key(table),
        shared.column,
        quote.format_table(membership.table),
        membership.key,
        membership.member,
    ]


@dataclass(frozen=True)
class Reached:
    """A membership and the tracked tables shared through it, the container's own first."""

    membership: Membership
    tables: list[Table]

    @property
    def container(self) -> Table:
        return self.tables[0]

    def shared(self, quote: Any) -> list[str]:
        """`changes_share`'s `tables`: each one's name, container column and primary key."""
        found = []
        for table in self.tables:
            found += [quote.format_table(table), _column(table), _key(table)]
        return found


def _column(table: Table) -> str:
    shared = _shared(table)
    assert shared is not None
    return shared.column


def _reached(tables: Sequence[Table]) -> list[Reached]:
    """Each membership reached by a tracked table, with those tables."""
    by_membership: dict[Membership, list[Table]] = {}
    for table in tables:
        shared = _shared(table)
        if shared is not None:
            by_membership.setdefault(shared.membership, []).append(table)
    found = []
    for membership, shared_tables in by_membership.items():
        ordered = sorted(shared_tables, key=lambda t: _column(t) != _key(t))
        if _column(ordered[0]) != _key(ordered[0]):
            raise ConfigError(
                f"membership {membership.table.name} reaches no tracked container table (a "
                "Shared table whose container column is its primary key): the feed cannot "
                "tell a leaver which container to drop"
            )
        found.append(Reached(membership, ordered))
    return found


def _ensure(
    connection: Connection,
    table: Table,
    triggers: dict[str, str],
    function: str,
    arguments: list[str],
    **formats: str,
) -> None:
    """Create each of `triggers` on `table` calling `function(arguments)`, unless it is there
    with those very arguments (one made by an older release is replaced)."""
    quote = connection.dialect.identifier_preparer
    name_of_table = quote.format_table(table)
    wanted = b"".join(argument.encode() + b"\0" for argument in arguments)
    for name, when in triggers.items():
        present = connection.execute(
            text(
                "SELECT tgargs FROM pg_trigger WHERE tgrelid = to_regclass(:table) AND tgname = :name"
            ),
            {"table": name_of_table, "name": name},
        ).scalar()
        if present is not None and bytes(present) == wanted:
            continue
        if present is not None:
            connection.execute(text(f"DROP TRIGGER {name} ON {name_of_table}"))
        listed = ", ".join("'" + argument.replace("'", "''") + "'" for argument in arguments)
        connection.execute(
            text(
                f"CREATE TRIGGER {name} {when.format(table=name_of_table, **formats)} "
                f"EXECUTE FUNCTION {function}({listed})"
            )
        )


def attach(connection: Connection, tables: Sequence[Table]) -> None:
    """Give every table in `tables` the change-log triggers it lacks."""
    if not tables:
        return
    if connection.execute(text(f"SELECT to_regproc('{FUNCTION}')")).scalar() is None:
        logger.warning("no change log (enable the changes plugin): writes are not recorded")
        return
    quote = connection.dialect.identifier_preparer
    for table in tables:
        create_when = table.info.get("change_feed_create_when")
        triggers = TRIGGERS if create_when is None else CONDITIONAL_TRIGGERS
        _ensure(
            connection,
            table,
            triggers,
            FUNCTION,
            _arguments(table, quote),
            create_when=str(create_when),
        )
    for reached in _reached(tables):
        membership = reached.membership
        columns = [membership.key, membership.member]
        shared = reached.shared(quote)
        _ensure(
            connection, membership.table, MEMBERSHIP_TRIGGERS, MEMBERSHIP_FUNCTION, columns + shared
        )
        arguments = [quote.format_table(membership.table), *columns, *shared]
        _ensure(connection, reached.container, CONTAINER_TRIGGERS, CONTAINER_FUNCTION, arguments)


def attacher(models: Iterable[type]) -> Callable[[Connection], None]:
    """What `todo-api migrate` runs after upgrading: attach the triggers to these models."""
    tables = tracked_tables(models)
    return lambda connection: attach(connection, tables)
