"""Task: T-130, T-303
Spec: specs/features/plugins.md §Change log

The change log's triggers, attached to every tracked table: what makes the log free for plugin
authors, as `Owned` makes isolation free.

Every `Owned` model an enabled plugin lists in its `models()` hook is tracked unless it opts out
with `__table_args__ = {"info": {"change_feed": False}}` (the log itself, idempotency keys). At
migrate time, inside the migration lock and after the branches are upgraded (the kernel's
`after_upgrade` hook), each tracked table is given the two row triggers calling
`changes_record()`, the function this plugin's migration creates; the function records the
write in the same transaction, so a write costs no round trip more. Attaching is idempotent: a
trigger already there is left alone (no lock is taken on the table), so every start may run it.
"""

import logging
from collections.abc import Callable, Iterable, Sequence

from sqlalchemy import Connection, Table, text

from app.core import ConfigError, Owned

logger = logging.getLogger("todo_api")

FUNCTION = "changes_record"
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


def attach(connection: Connection, tables: Sequence[Table]) -> None:
    """Give every table in `tables` the change-log triggers it lacks."""
    if not tables:
        return
    if connection.execute(text(f"SELECT to_regproc('{FUNCTION}')")).scalar() is None:
        logger.warning("no change log (enable the changes plugin): writes are not recorded")
        return
    quote = connection.dialect.identifier_preparer
    for table in tables:
        key = next(iter(table.primary_key.columns)).name
        create_when = table.info.get("change_feed_create_when")
        triggers = TRIGGERS if create_when is None else CONDITIONAL_TRIGGERS
        for name, when in triggers.items():
            present = connection.execute(
                text(
                    "SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass(:table) AND tgname = :name"
                ),
                {"table": quote.format_table(table), "name": name},
            ).scalar()
            if present is None:
                connection.execute(
                    text(
                        f"CREATE TRIGGER {name} "
                        f"{when.format(table=quote.format_table(table), create_when=create_when)} "
                        f"EXECUTE FUNCTION {FUNCTION}('{key}')"
                    )
                )


def attacher(models: Iterable[type]) -> Callable[[Connection], None]:
    """What `Migrations.upgrade` runs after upgrading: attach the triggers to these models."""
    tables = tracked_tables(models)
    return lambda connection: attach(connection, tables)
