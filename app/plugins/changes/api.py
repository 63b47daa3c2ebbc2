"""Task: T-131
Spec: specs/features/plugins.md §Events

Events for plugins: how a plugin hears of writes, its own and other plugins'.

The change log (`changes` plugin) records every write to a tracked `Owned` table inside the
writing transaction, by a trigger (`app.core.feed`). Plugins subscribe through the
`subscriptions` hook:

- `InTransaction(entity, handler)` is awaited inside the writing transaction, right after the
  write, with the writer's executor (scoped to the same user): it may write as well, atomically
  with the change, and an exception it raises rolls the whole write back. It names the writes
  it wants (`ops`, and for updates `fields`). A writing plugin opens its writes with
  `Writer.unit(entity, op, fields)`, which starts a transaction only when a subscriber wants
  that write, so every other write keeps its single round trip.
- `AfterCommit(name, entities, handler)` is fed batches of committed changes read from the log
  by the `changes` plugin, from a cursor stored under `name` and committed in the handler's own
  transaction: at least once, in log order, one instance at a time.
"""

from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from app.core.errors import ConfigError
from app.core.pool import Database, Executor, Transaction

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


InTransactionHandler = Callable[[Executor, Change], Awaitable[None]]
AfterCommitHandler = Callable[[Transaction, Sequence[Change]], Awaitable[None]]


OPERATIONS: frozenset[Operation] = frozenset({"create", "update", "delete"})


@dataclass(frozen=True)
class InTransaction:
    """Awaited as `handler(db, change)` inside the transaction that writes `entity`: for the
    operations in `ops`, and for updates only those setting one of `fields` (None: any).

    The narrower the interest, the fewer writes pay for it: a write nobody wants stays a single
    autocommit statement, while one a subscriber wants is a transaction (`BEGIN`, the write,
    the subscriber's statements, `COMMIT`)."""

    entity: str
    handler: InTransactionHandler
    ops: frozenset[Operation] = OPERATIONS
    fields: frozenset[str] | None = None

    def wants(self, op: Operation | None, fields: Collection[str] | None = None) -> bool:
        """Whether a write of `op` (None: not known yet) setting `fields` (None: unknown, or
        every field) concerns this subscriber."""
        if op is None:
            return True
        if op not in self.ops:
            return False
        return (
            op != "update"
            or self.fields is None
            or fields is None
            or bool(self.fields & set(fields))
        )


@dataclass(frozen=True)
class AfterCommit:
    """Awaited as `handler(transaction, changes)` with committed changes of `entities`; the
    consumer's cursor advances in that same transaction."""

    name: str  # the key of the stored cursor: unique, and kept across releases
    entities: frozenset[str]
    handler: AfterCommitHandler


@dataclass(frozen=True)
class ChangeSerializer:
    """How the change feed shows a row of `entity`: `serialize(row as JSON values)`."""

    entity: str
    serialize: Callable[[Mapping[str, Any]], Mapping[str, Any]]


class Events:
    """The app's subscriptions, sorted once at assembly."""

    def __init__(self, subscriptions: Sequence[InTransaction | AfterCommit]) -> None:
        self.in_transaction: dict[str, list[InTransaction]] = {}
        self.after_commit: list[AfterCommit] = []
        for subscription in subscriptions:
            if isinstance(subscription, InTransaction):
                self.in_transaction.setdefault(subscription.entity, []).append(subscription)
            else:
                self.after_commit.append(subscription)
        names = [consumer.name for consumer in self.after_commit]
        clashes = sorted({name for name in names if names.count(name) > 1})
        if clashes:
            raise ConfigError(
                f"after-commit consumer name {clashes[0]!r} is used twice: each consumer's "
                "cursor is stored under its name"
            )


class Unit:
    """Writes of one entity, and the in-transaction subscribers they are told to."""

    def __init__(self, db: Executor, entity: str, subscribers: Sequence[InTransaction]) -> None:
        self.db = db
        self.entity = entity
        self._subscribers = subscribers

    async def emit(
        self, entity_id: str, op: Operation, row: Mapping[str, Any] | None, version: int | None
    ) -> None:
        """Tell the in-transaction subscribers of a write just made (nothing to do, and nothing
        sent, when there are none). `row` is the row after the write; None for a delete."""
        subscribers = [s for s in self._subscribers if s.wants(op)]
        if not subscribers:
            return
        assert self.db.owner is not None, "a unit's executor is scoped to its user"
        # The values the change log holds (to_jsonb): one shape for both kinds of subscriber.
        data = None if row is None else orjson.loads(orjson.dumps(dict(row)))
        change = Change(self.entity, entity_id, op, version, self.db.owner, data)
        for subscriber in subscribers:
            await subscriber.handler(self.db, change)


class Writer:
    """A request's writes on behalf of its user, with the app's subscribers (a route takes it as
    `app.core.Writes`)."""

    def __init__(self, database: Database, owner: str, events: Events) -> None:
        self._database = database
        self.owner = owner
        self._events = events

    @property
    def db(self) -> Executor:
        """The database scoped to the user, autocommit: for reads outside a unit."""
        return self._database.owned(self.owner)

    @asynccontextmanager
    async def unit(
        self,
        entity: str,
        op: Operation | None = None,
        fields: Collection[str] | None = None,
        atomic: bool = False,
    ) -> AsyncIterator[Unit]:
        """A unit of writes to `entity`: a transaction when an in-transaction subscriber wants
        the write about to be made (`op`, and for an update the `fields` it sets; None: not
        known, any subscriber) or `atomic` is asked for (several statements), else autocommit."""
        subscribers = [
            s for s in self._events.in_transaction.get(entity, []) if s.wants(op, fields)
        ]
        if not subscribers and not atomic:
            yield Unit(self.db, entity, ())
            return
        async with self._database.transaction() as transaction:
            yield Unit(transaction.owned(self.owner), entity, subscribers)
