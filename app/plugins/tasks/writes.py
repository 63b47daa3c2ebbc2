"""Task: T-131, T-246, T-279, T-291
Spec: specs/features/plugins.md §Events

Task writes, told to the plugins that subscribe to them inside the writing transaction.

A plugin subscribes through this plugin's `task_subscriptions` hook with `InTransaction(handler,
ops, fields)`: `handler(db, change)` runs right after the write, in its transaction, with the
writer's executor (scoped to the same user); it may write too, atomically with the change, and
an exception it raises rolls the whole write back. A route writes through a `Unit`, which is a
transaction only when a subscriber wants that write (`ops`, and for an update the `fields` it
sets): every other write keeps its single autocommit statement.

What a subscriber is told comes from the write itself: the operation from the statement (an
INSERT creates, an UPDATE updates, a DELETE deletes), the row from its `RETURNING` (an INSERT's
from the values it inserts), so no route names the entity or the operation a second time.
"""

from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

import asyncpg
import orjson
from sqlalchemy import Delete, Insert, Update
from sqlalchemy.sql import ClauseElement

from app.core import Context, Executor, Row
from app.plugins.tasks.models import Task
from app.plugins.tasks.subtrees import refusals_checked

Operation = Literal["create", "update", "delete"]
OPERATIONS: frozenset[Operation] = frozenset({"create", "update", "delete"})
COLUMNS = frozenset(Task.__table__.c.keys())  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class TaskChange:
    """One write to a task, as its in-transaction subscribers are told of it."""

    id: str
    op: Operation
    version: int | None
    user_id: str
    # The task after the write as JSON values (datetimes as ISO 8601 strings); None for a delete.
    data: Mapping[str, Any] | None


Handler = Callable[[Executor, TaskChange], Awaitable[None]]


@dataclass(frozen=True)
class InTransaction:
    """Awaited as `handler(db, change)` inside the transaction that writes a task: for the
    operations in `ops`, and for updates only those setting one of `fields` (None: any).

    The narrower the interest, the fewer writes pay for it: a write nobody wants stays a single
    autocommit statement, while one a subscriber wants is a transaction (`BEGIN`, the write,
    the subscriber's statements, `COMMIT`)."""

    handler: Handler
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


def operation(statement: ClauseElement) -> Operation:
    if isinstance(statement, Insert):
        return "create"
    if isinstance(statement, Update):
        return "update"
    if isinstance(statement, Delete):
        return "delete"
    raise TypeError(f"not a write: {type(statement).__name__}")


class Unit:
    """Writes to tasks through `db`, and the subscribers they are told to."""

    def __init__(self, db: Executor, subscribers: Sequence[InTransaction]) -> None:
        self.db = db
        self._subscribers = subscribers

    async def write(self, statement: ClauseElement, **params: Any) -> asyncpg.Record | None:
        """Send a write of one task and tell the subscribers that want it. Returns its
        `RETURNING` row (None: it matched nothing, and nothing is told); a statement without
        `RETURNING` (an INSERT whose values say it all) returns None. A `parent_id` or an
        `assignee_id` the database refuses is a 422 naming it."""
        op = operation(statement)
        with refusals_checked():
            if getattr(statement, "_returning", ()):
                row = await self.db.fetchrow(statement, **params)
                if row is None:
                    return None
            else:
                row = None
                await self.db.execute(statement, **params)
        if row is None:  # an INSERT without RETURNING: the task is the values inserted
            assert op == "create", "an UPDATE or DELETE of a task returns its row"
            await self.tell(op, {key: params[key] for key in COLUMNS if key in params})
        else:
            await self.tell(op, row)
        return row

    async def tell(self, op: Operation, row: Row) -> None:
        """Tell the subscribers that want it of a write made (`row`: the task after it, or its
        id and version for a delete); nothing is sent when there are none."""
        subscribers = [s for s in self._subscribers if s.wants(op)]
        if not subscribers:
            return
        assert self.db.owner is not None, "a unit's executor is scoped to its user"
        # The values the change log holds (to_jsonb): one shape for every kind of subscriber.
        data = None if op == "delete" else orjson.loads(orjson.dumps(dict(row)))
        change = TaskChange(str(row["id"]), op, row.get("version"), self.db.owner, data)
        for subscriber in subscribers:
            await subscriber.handler(self.db, change)


class TaskWrites:
    """The app's subscribers of task writes (every plugin's `task_subscriptions`)."""

    def __init__(self, subscribers: Sequence[InTransaction]) -> None:
        self.subscribers = list(subscribers)

    @classmethod
    def of(cls, context: Context) -> "TaskWrites":
        return context.shared("tasks", lambda: cls(context.collect("task_subscriptions")))

    @asynccontextmanager
    async def unit(
        self,
        db: Executor,
        op: Operation | None = None,
        fields: Collection[str] | None = None,
        atomic: bool = False,
    ) -> AsyncIterator[Unit]:
        """A unit of task writes through `db` (an owned executor): a transaction when a
        subscriber wants the write about to be made (`op`, and for an update the `fields` it
        sets; None: not known, any subscriber) or `atomic` asks for one (several statements),
        else autocommit."""
        subscribers = [s for s in self.subscribers if s.wants(op, fields)]
        if not subscribers and not atomic:
            yield Unit(db, ())
            return
        async with db.transaction() as transaction:
            yield Unit(transaction, subscribers)

    async def tell(self, db: Executor, op: Operation, row: Row) -> None:
        """Tell the subscribers of a task write another plugin made through `db`, in its
        transaction (the recurring plugin's next occurrence)."""
        await Unit(db, self.subscribers).tell(op, row)
