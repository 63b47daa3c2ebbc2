"""Task: T-131, T-242, T-272
Spec: specs/features/plugins.md §Events

What the changes plugin offers the plugins that require it: hearing of committed writes.

The change log records every write to a tracked `Owned` table inside the writing transaction,
by a trigger (`triggers`). A plugin subscribes through this plugin's `subscriptions` hook with
`AfterCommit(name, entities, handler)`, fed batches of committed changes from a cursor stored
under `name` and committed in the handler's own transaction: at least once, in log order, one
instance at a time.
"""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from app.core import ConfigError, Context, RowSerializer, Transaction

Operation = Literal["create", "update", "delete"]


@dataclass(frozen=True, slots=True)
class Change:
    """One write to a tracked table, as the change log records it."""

    entity: str  # the table's name, "tasks"
    id: str  # the row's primary key
    op: Operation
    version: int | None  # the row's `version` column, if it has one (a delete: the last one)
    user_id: str
    # The row after the write as JSON values (datetimes as ISO 8601 strings); None for a delete.
    data: Mapping[str, Any] | None


AfterCommitHandler = Callable[[Transaction, Sequence[Change]], Awaitable[None]]


@dataclass(frozen=True)
class AfterCommit:
    """Awaited as `handler(transaction, changes)` with committed changes of `entities`; the
    consumer's cursor advances in that same transaction."""

    name: str  # the key of the stored cursor: unique, and kept across releases
    entities: frozenset[str]
    handler: AfterCommitHandler


def consumers(subscriptions: Sequence[AfterCommit]) -> list[AfterCommit]:
    """The app's after-commit consumers, checked: each one's cursor is stored under its name."""
    names = [consumer.name for consumer in subscriptions]
    clashes = sorted({name for name in names if names.count(name) > 1})
    if clashes:
        raise ConfigError(
            f"after-commit consumer name {clashes[0]!r} is used twice: each consumer's "
            "cursor is stored under its name"
        )
    return list(subscriptions)


def row_serializers(context: Context) -> dict[str, RowSerializer]:
    """How every plugin's API shows a row of its tables (the kernel's `row_serializers` hook),
    by table name: a change of a table without one carries no row."""
    return {
        table: show
        for answer in context.collect("row_serializers")
        for table, show in answer.items()
    }
