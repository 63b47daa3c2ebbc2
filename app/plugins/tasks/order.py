"""Task: T-284
Spec: specs/api/rest-endpoints.md §Order

Moves: one `UPDATE` of the moved row that computes its new position from its neighbours among
its siblings, read in the same statement, and never touches the siblings themselves.

`after` and `before` name the siblings the row goes between (null: the start, the end); given
one, the other neighbour is the next sibling on that side. A statement is built once per shape
(which of them are given, and whether a task changes list) and matches nothing when a named
neighbour is not a sibling, or `after` is not before `before`: the route then says why.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, model_validator
from sqlalchemy import (
    ColumnElement,
    Table,
    Text,
    Update,
    bindparam,
    exists,
    func,
    null,
    select,
    update,
)

from app.core import Executor, documented, invalid
from app.plugins.tasks.models import Task, TaskList
from app.plugins.tasks.queries import ID, LIST_ID, NOW, between
from app.plugins.tasks.schemas import COLUMNS, EXAMPLE_ID, EXAMPLE_LIST_ID, LIST_COLUMNS, Id

Given = Literal["absent", "null", "id"]
TASKS: Table = Task.__table__  # type: ignore[attr-defined]
LISTS: Table = TaskList.__table__  # type: ignore[attr-defined]


class Move(BaseModel):
    """Where a list goes among your lists: right after `after` or right before `before` (null:
    the start, the end). Neither: the end."""

    model_config = documented({"after": EXAMPLE_ID}, {"before": EXAMPLE_ID}, extra="forbid")

    after: Id | None = None
    """The one it goes right after; null: the start."""
    before: Id | None = None
    """The one it goes right before; null: the end."""

    @model_validator(mode="after")
    def _not_both_ends(self) -> "Move":
        given = self.model_fields_set
        if {"after", "before"} <= given and self.after is None and self.before is None:
            raise ValueError("after: null (the start) and before: null (the end) contradict")
        return self


class TaskMove(Move):
    """Where a task goes: into `list_id` (default: its own list), right after `after` or
    right before `before`, tasks of that list (null: the start, the end). Neither: the end."""

    model_config = documented(
        {"list_id": EXAMPLE_LIST_ID, "after": EXAMPLE_ID}, {"before": EXAMPLE_ID}, extra="forbid"
    )

    list_id: Id | None = None
    """The list it moves to (one of yours); omitted or null: it stays in its own."""


@dataclass(frozen=True)
class Place:
    """What a move statement looks like, apart from its values."""

    after: Given
    before: Given
    list_id: bool = False

    @classmethod
    def of(cls, move: Move) -> "Place":
        given = move.model_fields_set
        after: Given = "absent" if "after" not in given else "null" if move.after is None else "id"
        before: Given = (
            "absent" if "before" not in given else "null" if move.before is None else "id"
        )
        if after == before == "absent":
            before = "null"  # neither: the end
        return cls(after, before, getattr(move, "list_id", None) is not None)

    def parameters(self, move: Move) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if self.after == "id":
            params["after"] = move.after
        if self.before == "id":
            params["before"] = move.before
        if self.list_id:
            params["list_id"] = getattr(move, "list_id", None)
        return params


Siblings = Callable[[Any], list[ColumnElement[bool]]]


def _move(table: Table, place: Place, siblings: Siblings) -> Update:
    """Set `table`'s row `:id` at `place` among the rows `siblings(alias)` selects."""
    sibling = table.alias("sibling")
    near = siblings(sibling)
    others = [*near, sibling.c.id != ID]
    conditions: list[ColumnElement[bool]] = [table.c.id == ID]

    def position_of(name: str) -> Any:
        named = bindparam(name, type_=Text)
        neighbour = table.alias(f"{name}_neighbour")
        mine = [neighbour.c.id == named, *siblings(neighbour)]
        found = select(neighbour.c.id).where(*mine, neighbour.c.id != ID).correlate(table)
        conditions.append(exists(found))
        return select(neighbour.c.position).where(*mine).correlate(table).scalar_subquery()

    lower: Any = position_of("after") if place.after == "id" else null()
    upper: Any = position_of("before") if place.before == "id" else null()
    if place.after == "absent":
        below = [sibling.c.position < upper] if place.before == "id" else []
        lower = select(func.max(sibling.c.position)).where(*others, *below)
        lower = lower.correlate(table).scalar_subquery()
    if place.before == "absent":
        above = [sibling.c.position > lower] if place.after == "id" else []
        upper = select(func.min(sibling.c.position)).where(*others, *above)
        upper = upper.correlate(table).scalar_subquery()
    position = between(lower, upper)
    conditions.append(position.is_not(None))
    return (
        update(table)
        .where(*conditions)
        .values(position=position, updated_at=NOW, version=table.c.version + 1)
    )


@lru_cache(maxsize=32)
def move_task(place: Place) -> Update:
    """A task's move. Its siblings are the tasks of its list (the one it moves to); a condition
    on the parent joins this one when there are subtasks."""
    target = LIST_ID if place.list_id else TASKS.c.list_id

    def siblings(sibling: Any) -> list[ColumnElement[bool]]:
        return [sibling.c.list_id == target]

    statement = _move(TASKS, place, siblings).returning(*COLUMNS)
    if place.list_id:
        mine = exists(select(LISTS.c.id).where(LISTS.c.id == LIST_ID))
        statement = statement.values(list_id=LIST_ID).where(mine)
    return statement


@lru_cache(maxsize=16)
def move_list(place: Place) -> Update:
    """A list's move among the caller's lists (the kernel scopes every one to the caller)."""
    return _move(LISTS, place, lambda sibling: []).returning(*LIST_COLUMNS)


async def misplaced(
    db: Executor, get: Any, moving: str, place: Place, body: Move, in_list: str | None
) -> None:
    """Why a move matched nothing, the moved row being there: a 422 naming the neighbour that is
    not a sibling (`in_list`: the list a task's siblings are in), else `before`, which is not
    after `after`."""
    for name in ("after", "before"):
        if getattr(place, name) != "id":
            continue
        neighbour_id = getattr(body, name)
        neighbour = await db.fetchrow(get, id=neighbour_id)
        if (
            neighbour is None
            or neighbour_id == moving
            or (in_list is not None and neighbour["list_id"] != in_list)
        ):
            raise invalid(("body", name), "Not a sibling of the one moved (nor itself)")
    raise invalid(("body", "before"), "Must come after `after`")
