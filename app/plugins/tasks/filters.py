"""Task: T-035, T-107, T-141, T-151, T-201, T-283, T-293, T-314, T-354
Spec: specs/api/rest-endpoints.md §Tasks

The list's query parameters, and the SQL they become: filters, sort order and the keyset
condition that continues after a cursor. The user filter is not here: the kernel adds it to
every statement on `Task` (`app.core.db.ownership`).

A list statement is built once per *shape* — which filters are present, the sort, whether a
cursor continues it — with every value a bind parameter, so it is compiled once and prepared
once per connection however many users and values pass through it.
"""

from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any, Literal, cast, get_args

from pydantic import BaseModel, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import (
    BindParameter,
    ColumnClause,
    ColumnElement,
    Select,
    Text,
    and_,
    any_,
    bindparam,
    func,
    literal_column,
    not_,
    or_,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute
from sqlmodel import col
from typing_extensions import TypeAliasType

from app.core import NO_NUL, Instant, caller, documented
from app.plugins.tasks.models import Priority, Task
from app.plugins.tasks.schemas import COLUMNS, Id

SortField = Literal["created_at", "updated_at", "due_at", "priority", "title", "position"]
_SORTS = Literal[
    "created_at",
    "-created_at",
    "updated_at",
    "-updated_at",
    "due_at",
    "-due_at",
    "priority",
    "-priority",
    "title",
    "-title",
    "position",
    "-position",
]
# A named type: one `TaskSort` enum in the OpenAPI document and in generated clients, whose
# members read `CREATED_AT_DESC` rather than `VALUE_1` (`x-enum-varnames`).
TaskSort = TypeAliasType(
    "TaskSort",
    Annotated[
        _SORTS,
        Field(
            json_schema_extra={
                "x-enum-varnames": [
                    value.lstrip("-").upper() + ("_DESC" if value.startswith("-") else "")
                    for value in get_args(_SORTS)
                ]
            }
        ),
    ],
)

# The expression indexed by `ix_tasks_search` (migration tasks_0001; the function's body is
# tasks_0003's), spelled the same way so the planner matches it. Trigrams only narrow the
# rows; ILIKE decides.
SEARCH_TRIGRAMS: ColumnClause[str] = literal_column(
    "tasks_trigrams(tasks.title || ' ' || coalesce(tasks.description, ''))"
)
TRIGRAM = 3


class TaskQuery(BaseModel):
    """`GET /tasks` query parameters. Unknown parameters are rejected (422)."""

    model_config = documented(
        {
            "list_id": "6c1f0b9a-2d3e-4f5a-8b7c-9d0e1f2a3b4c",
            "completed": False,
            "priority": ["high"],
            "tag": ["home"],
            "q": "milk",
            "due_before": "2030-02-01T00:00:00Z",
            "due_after": "2030-01-01T00:00:00Z",
            "overdue": False,
            "updated_since": "2030-01-01T12:00:00Z",
            "parent_id": "3f2b8c1e-7d4a-4e1b-9a65-0c2d5e8f1a47",
            "top_level": True,
            "assignee": "me",
            "sort": "-created_at",
            "limit": 50,
            "cursor": "eyJ2IjoiMjAzMC0wMS0wMlQwMTowNDowNVoiLCJpZCI6IjNmMmIifQ",
        },
        extra="forbid",
    )

    list_id: Id | None = None
    """Only the tasks of this list (one of yours: another id finds none)."""
    completed: bool | None = None
    """Only completed (`true`) or only open (`false`) tasks."""
    priority: list[Priority] = []
    """Only tasks of these priorities; repeat the parameter for several."""
    tag: list[Annotated[str, StringConstraints(pattern=NO_NUL)]] = []
    """Only tasks carrying all of these tags (exact); repeat the parameter for several."""
    q: str | None = Field(None, min_length=1, max_length=200, pattern=NO_NUL)
    """Only tasks whose title or description contains this, ignoring case (1 to 200 characters)."""
    due_before: Instant | None = None
    """Only tasks due before this time (with a timezone)."""
    due_after: Instant | None = None
    """Only tasks due after this time (with a timezone)."""
    overdue: bool | None = None
    """`true`: only open tasks past their due time; `false`: every other task."""
    updated_since: Instant | None = None
    """Only tasks updated at or after this time (with a timezone); deletions are in `/changes`."""
    parent_id: str | None = Field(None, max_length=36, pattern=NO_NUL)
    """Only the subtasks of this task (its children, not their own subtasks)."""
    top_level: bool | None = None
    """`true`: only tasks that are no subtask; `false`: only subtasks."""
    assignee: str | None = Field(None, min_length=1, max_length=255, pattern=NO_NUL)
    """Only the tasks assigned to this user (an id), or to you (`me`)."""
    sort: TaskSort = "-created_at"
    """The order: a field, `-` first for descending; ties by id. Default `-created_at`.
    `position` (the manual order) needs `list_id` (the list's tasks, subtasks included; with
    `top_level=true` its top level) or `parent_id` (the task's children)."""
    limit: int | None = Field(None, ge=1)
    """Tasks per page: 1 or more, at most the server's maximum (500); default 50."""
    cursor: str | None = Field(None, max_length=2000)
    """Where the page starts: taken from the previous page's `Link`, never built by hand."""

    @model_validator(mode="after")
    def _position_among_siblings(self) -> "TaskQuery":
        # Positions order siblings: the tasks of one list, the children of one task. Across
        # lists they interleave meaninglessly.
        siblings = self.list_id is not None or self.parent_id is not None
        if self.sort.lstrip("-") == "position" and not siblings:
            raise PydanticCustomError("value_error", "sort=position needs list_id or parent_id")
        return self

    def filter_key(self) -> dict[str, Any]:
        """What selects and orders the rows (not `limit` or `cursor`), in a canonical form."""
        values = self.model_dump(mode="json", exclude={"limit", "cursor"})
        values["priority"] = sorted(set(values["priority"]))
        values["tag"] = sorted(set(values["tag"]))
        return values


@dataclass(frozen=True)
class Sort:
    field: SortField
    descending: bool

    @classmethod
    def parse(cls, param: TaskSort) -> "Sort":
        return cls(field=cast(SortField, param.lstrip("-")), descending=param.startswith("-"))

    @property
    def column(self) -> InstrumentedAttribute[Any]:
        column: InstrumentedAttribute[Any] = getattr(Task, self.field)
        return column

    def order_by(self) -> list[ColumnElement[Any]]:
        # PostgreSQL's defaults, ASC NULLS LAST and DESC NULLS FIRST, are what a (forward or
        # backward) scan of the (user_id, <field>, id) index yields: no sort step.
        if self.descending:
            return [self.column.desc(), col(Task.id).desc()]
        return [self.column.asc(), col(Task.id).asc()]

    def after(self, value_is_null: bool) -> ColumnElement[bool]:
        """Rows strictly after the cursor's (:after_value, :after_id) in this order; only
        `due_at` may be NULL, and a NULL sort value needs another condition."""
        value = bindparam("after_value", type_=self.column.type)
        task_id: BindParameter[str] = bindparam("after_id")
        key, after_key = tuple_(self.column, col(Task.id)), tuple_(value, task_id)
        if self.field != "due_at":
            return key < after_key if self.descending else key > after_key
        column = self.column
        if self.descending:  # NULLs first, then dates downwards
            if value_is_null:
                return or_(and_(column.is_(None), col(Task.id) < task_id), column.is_not(None))
            return key < after_key
        if value_is_null:  # dates upwards, then NULLs
            return and_(column.is_(None), col(Task.id) > task_id)
        return or_(key > after_key, column.is_(None))


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _search(trigrams: bool) -> ColumnElement[bool]:
    pattern: BindParameter[str] = bindparam("q_pattern")
    matches = or_(
        col(Task.title).ilike(pattern, escape="\\"),
        col(Task.description).ilike(pattern, escape="\\"),
    )
    if not trigrams:  # no trigram to look up: the user's rows are filtered directly
        return matches
    return and_(SEARCH_TRIGRAMS.op("@>")(func.tasks_trigrams(bindparam("q"))), matches)


Search = Literal["none", "short", "trigrams"]
After = Literal["none", "value", "null"]
Assignee = Literal["none", "me", "id"]


@dataclass(frozen=True)
class Shape:
    """What a list statement looks like, apart from its values."""

    list_id: bool
    completed: bool
    priority: bool
    tag: bool
    search: Search
    due_before: bool
    due_after: bool
    overdue: bool | None
    updated_since: bool
    parent: bool
    top_level: bool | None
    sort: TaskSort
    after: After
    assignee: Assignee = "none"

    @classmethod
    def of(cls, query: TaskQuery, cursor_value: Any = None) -> "Shape":
        search: Search = (
            "none" if query.q is None else "short" if len(query.q) < TRIGRAM else "trigrams"
        )
        after: After = (
            "none" if query.cursor is None else "null" if cursor_value is None else "value"
        )
        assignee: Assignee = (
            "none" if query.assignee is None else "me" if query.assignee == "me" else "id"
        )
        return cls(
            list_id=query.list_id is not None,
            completed=query.completed is not None,
            priority=bool(query.priority),
            tag=bool(query.tag),
            search=search,
            due_before=query.due_before is not None,
            due_after=query.due_after is not None,
            overdue=query.overdue,
            updated_since=query.updated_since is not None,
            parent=query.parent_id is not None,
            top_level=query.top_level,
            sort=query.sort,
            after=after,
            assignee=assignee,
        )


def parameters(query: TaskQuery, limit: int, after: tuple[Any, str] | None) -> dict[str, Any]:
    """The bind parameters of `statement(Shape.of(query))`."""
    params: dict[str, Any] = {"limit": limit + 1}  # one row more says whether a page follows
    if query.list_id is not None:
        params["list_id"] = query.list_id
    if query.completed is not None:
        params["completed"] = query.completed
    if query.priority:
        params["priorities"] = sorted(set(query.priority))
    if query.tag:
        params["tags"] = sorted(set(query.tag))
    if query.q is not None:
        params["q"], params["q_pattern"] = query.q, like_pattern(query.q)
    if query.due_before is not None:
        params["due_before"] = query.due_before
    if query.due_after is not None:
        params["due_after"] = query.due_after
    if query.updated_since is not None:
        params["updated_since"] = query.updated_since
    if query.parent_id is not None:
        params["parent_id"] = query.parent_id
    if query.assignee is not None and query.assignee != "me":
        params["assignee"] = query.assignee
    if after is not None:
        params["after_value"], params["after_id"] = after
        if after[0] is None:
            del params["after_value"]
    return params


@lru_cache(maxsize=512)
def statement(shape: Shape) -> Select[Any]:
    """The list statement for `shape`, built once: values are bind parameters."""
    overdue = and_(col(Task.due_at) < func.now(), not_(col(Task.completed)))
    conditions: list[ColumnElement[bool]] = []
    if shape.list_id:
        conditions.append(col(Task.list_id) == bindparam("list_id"))
    if shape.completed:
        conditions.append(col(Task.completed) == bindparam("completed"))
    if shape.priority:
        conditions.append(col(Task.priority) == any_(bindparam("priorities")))
    if shape.tag:
        conditions.append(col(Task.tags).contains(bindparam("tags", type_=ARRAY(Text))))
    if shape.search != "none":
        conditions.append(_search(shape.search == "trigrams"))
    if shape.due_before:
        conditions.append(col(Task.due_at) < bindparam("due_before"))
    if shape.due_after:
        conditions.append(col(Task.due_at) > bindparam("due_after"))
    if shape.updated_since:
        # Inclusive: a client passing the newest `updated_at` it holds misses no task updated in
        # that same microsecond (it sees that one again).
        conditions.append(col(Task.updated_at) >= bindparam("updated_since"))
    if shape.parent:
        conditions.append(col(Task.parent_id) == bindparam("parent_id"))
    if shape.top_level is not None:
        conditions.append(
            col(Task.parent_id).is_(None) if shape.top_level else col(Task.parent_id).is_not(None)
        )
    if shape.assignee != "none":
        # `me` is the caller, as the kernel binds it: one statement for every user.
        assignee = caller() if shape.assignee == "me" else bindparam("assignee", type_=Text)
        conditions.append(col(Task.assignee_id) == assignee)
    if shape.overdue is not None:
        conditions.append(
            overdue if shape.overdue else or_(not_(overdue), col(Task.due_at).is_(None))
        )
    sort = Sort.parse(shape.sort)
    if shape.after != "none":
        conditions.append(sort.after(value_is_null=shape.after == "null"))
    return select(*COLUMNS).where(*conditions).order_by(*sort.order_by()).limit(bindparam("limit"))
