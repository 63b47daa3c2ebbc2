"""Task: T-284, T-313, T-351
Spec: specs/api/rest-endpoints.md §Order, §Subtasks; specs/features/sharing.md §Tasks in shared
lists

Moves: one `UPDATE` of the moved row that computes its new position from its neighbours among
its siblings, read in the same statement, and never touches the siblings themselves. A task's
siblings are the tasks of its (new) list under its (new) parent.

`after` and `before` name the siblings the row goes between (null: the start, the end); given
one, the other neighbour is the next sibling on that side. A statement is built once per shape
(which of them are given, whether a task changes list, and what it says of the parent) and
matches nothing when a named neighbour is not a sibling, `after` is not before `before`, or the
list contradicts the parent's: the route then says why. A parent that is refused (not yours, a
cycle, too deep) is refused by the tree's trigger (`subtrees`) inside the statement.

A task moved into a list someone else owns becomes theirs, its subtree with it: the kernel sets
its `user_id` to the list's owner (or refuses with a 403 a caller who may not write there).
"""

from collections.abc import Callable, Mapping
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
    case,
    exists,
    func,
    null,
    select,
    update,
)

from app.core import Executor, Row, caller, documented, invalid
from app.plugins.tasks import list_queries, subtrees
from app.plugins.tasks.models import Task, TaskList
from app.plugins.tasks.queries import GET, ID, LIST_ID, NOW, PARENT_LIST, between
from app.plugins.tasks.schemas import COLUMNS, EXAMPLE_ID, EXAMPLE_LIST_ID, OWN_LIST_COLUMNS, Id

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
    """Where a task goes: under `parent_id` (null: the top level; omitted: its own parent,
    or the top level of another list it moves to), into `list_id` (default: the parent's list,
    else its own), right after `after` or right before `before`, its siblings there (null: the
    start, the end). Neither: the end."""

    model_config = documented(
        {"list_id": EXAMPLE_LIST_ID, "after": EXAMPLE_ID},
        {"parent_id": EXAMPLE_ID, "before": EXAMPLE_ID},
        extra="forbid",
    )

    list_id: Id | None = None
    """The list it moves to (one of yours); omitted or null: its parent's, else its own."""
    parent_id: Id | None = None
    """The task it becomes a subtask of (its subtree follows); null: the top level; omitted:
    it keeps its parent, unless it moves to another list, whose top level it then goes to."""


@dataclass(frozen=True)
class Place:
    """What a move statement looks like, apart from its values."""

    after: Given
    before: Given
    list_id: bool = False
    parent: Given = "absent"

    @classmethod
    def of(cls, move: Move) -> "Place":
        given = move.model_fields_set
        after: Given = "absent" if "after" not in given else "null" if move.after is None else "id"
        before: Given = (
            "absent" if "before" not in given else "null" if move.before is None else "id"
        )
        if after == before == "absent":
            before = "null"  # neither: the end
        parent: Given = "absent"
        if "parent_id" in given:
            parent = "null" if getattr(move, "parent_id", None) is None else "id"
        return cls(after, before, getattr(move, "list_id", None) is not None, parent)

    def parameters(self, move: Move) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if self.after == "id":
            params["after"] = move.after
        if self.before == "id":
            params["before"] = move.before
        if self.list_id:
            params["list_id"] = getattr(move, "list_id", None)
        if self.parent == "id":
            params["parent_id"] = getattr(move, "parent_id", None)
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


@lru_cache(maxsize=64)
def move_task(place: Place) -> Update:
    """A task's move, the one statement every move is (the route's, a batch's). Its siblings
    are the tasks of the list it moves to under the parent it moves under.

    A named parent decides the list: its own (a `list_id` naming another matches nothing). A
    parent not yours leaves the list as it is, and the tree's trigger refuses it; so does it a
    cycle or a depth beyond the limit. Without a parent named, a task moving to another list
    goes to its top level (as in Google Tasks); otherwise it keeps its parent. In every case
    a task whose list changes takes its subtree along (trigger `tasks_move_subtree`)."""
    if place.parent == "id":
        parent: Any = bindparam("parent_id", type_=Text)
        target: Any = func.coalesce(PARENT_LIST, TASKS.c.list_id)
    elif place.parent == "null":
        parent = null()
        target = LIST_ID if place.list_id else TASKS.c.list_id
    elif place.list_id:
        parent = case((TASKS.c.list_id == LIST_ID, TASKS.c.parent_id), else_=null())
        target = LIST_ID
    else:
        parent, target = TASKS.c.parent_id, TASKS.c.list_id

    def siblings(sibling: Any) -> list[ColumnElement[bool]]:
        return [sibling.c.list_id == target, sibling.c.parent_id.is_not_distinct_from(parent)]

    statement = _move(TASKS, place, siblings).values(updated_by=caller()).returning(*COLUMNS)
    if place.parent != "absent" or place.list_id:
        statement = statement.values(parent_id=parent)
    if place.parent == "id":
        statement = statement.values(list_id=target)
        if place.list_id:  # the parent's list, or nothing (the route says which was wrong)
            statement = statement.where(PARENT_LIST == LIST_ID)
    elif place.list_id:
        mine = exists(select(LISTS.c.id).where(LISTS.c.id == LIST_ID))
        statement = statement.values(list_id=LIST_ID).where(mine)
    return statement


@lru_cache(maxsize=16)
def move_list(place: Place) -> Update:
    """A list's move among the caller's lists (the kernel scopes every one to the caller)."""
    return _move(LISTS, place, lambda sibling: []).returning(*OWN_LIST_COLUMNS)


async def misplaced(
    db: Executor, get: Any, moving: str, place: Place, body: Move, sibling: Mapping[str, Any]
) -> None:
    """Why a move matched nothing, the moved row being there: a 422 naming the neighbour that is
    not a sibling (`sibling`: the values a sibling has, such as a task's list and parent), else
    `before`, which is not after `after`."""
    for name in ("after", "before"):
        if getattr(place, name) != "id":
            continue
        neighbour_id = getattr(body, name)
        neighbour = await db.fetchrow(get, id=neighbour_id)
        if (
            neighbour is None
            or neighbour_id == moving
            or any(neighbour[key] != value for key, value in sibling.items())
        ):
            raise invalid(("body", name), "Not a sibling of the one moved (nor itself)")
    raise invalid(("body", "before"), "Must come after `after`")


async def why_unmoved(db: Executor, task: Row, place: Place, body: TaskMove) -> None:
    """Why a task's move matched nothing, the task being there: a 422 naming the list, the
    parent or the neighbour that is wrong (the route and batch answer alike)."""
    if body.list_id and await db.fetchrow(list_queries.GET, id=body.list_id) is None:
        raise invalid(("body", "list_id"), "Not one of your lists")
    if place.parent == "id":
        parent = await db.fetchrow(GET, id=body.parent_id)
        if parent is None:
            raise invalid(("body", "parent_id"), subtrees.REASONS["parent"], "parent_id")
        if body.list_id and parent["list_id"] != body.list_id:
            raise invalid(("body", "parent_id"), subtrees.REASONS["list"], "parent_id")
        sibling = {"list_id": parent["list_id"], "parent_id": body.parent_id}
    else:
        list_id = body.list_id or task["list_id"]
        stays = place.parent == "absent" and list_id == task["list_id"]
        sibling = {"list_id": list_id, "parent_id": task["parent_id"] if stays else None}
    await misplaced(db, GET, task["id"], place, body, sibling)
