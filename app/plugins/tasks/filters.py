"""Task: T-035
Spec: specs/api/rest-endpoints.md §Tasks

The list's query parameters, and the SQL they become: filters, sort order and the keyset
condition that continues after a cursor. The user filter is not here: the kernel adds it to
every query on `Task` (`app.core.ownership`).
"""

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import ColumnElement, and_, func, literal_column, not_, or_, true, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from app.plugins.tasks.models import Priority, Task
from app.plugins.tasks.schemas import NO_NUL

SortField = Literal["created_at", "updated_at", "due_at", "priority", "title"]
SortParam = Literal[
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
]

# The expression indexed by `ix_tasks_search` (migration tasks_0001), spelled the same way so
# the planner matches it. Trigrams only narrow the rows; ILIKE decides.
SEARCH_TRIGRAMS = literal_column(
    "tasks_trigrams(tasks.title || ' ' || coalesce(tasks.description, ''))"
)
TRIGRAM = 3


class TaskQuery(BaseModel):
    """`GET /tasks` query parameters. Unknown parameters are rejected (422)."""

    model_config = ConfigDict(extra="forbid")

    completed: bool | None = None
    priority: list[Priority] = []
    tag: list[Annotated[str, StringConstraints(pattern=NO_NUL)]] = []
    q: str | None = Field(None, min_length=1, max_length=200, pattern=NO_NUL)
    due_before: AwareDatetime | None = None
    due_after: AwareDatetime | None = None
    overdue: bool | None = None
    sort: SortParam = "-created_at"
    limit: int | None = Field(None, ge=1)
    cursor: str | None = Field(None, max_length=2000)

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
    def parse(cls, param: SortParam) -> "Sort":
        return cls(field=param.lstrip("-"), descending=param.startswith("-"))  # type: ignore[arg-type]

    @property
    def column(self) -> InstrumentedAttribute[Any]:
        return getattr(Task, self.field)

    def order_by(self) -> list[ColumnElement[Any]]:
        # PostgreSQL's defaults, ASC NULLS LAST and DESC NULLS FIRST, are what a (forward or
        # backward) scan of the (user_id, <field>, id) index yields: no sort step.
        if self.descending:
            return [self.column.desc(), Task.id.desc()]
        return [self.column.asc(), Task.id.asc()]

    def after(self, value: Any, task_id: str) -> ColumnElement[bool]:
        """Rows strictly after (value, task_id) in this order; only `due_at` may be NULL."""
        key, after_key = tuple_(self.column, Task.id), tuple_(value, task_id)
        if self.field != "due_at":
            return key < after_key if self.descending else key > after_key
        column = self.column
        if self.descending:  # NULLs first, then dates downwards
            if value is None:
                return or_(and_(column.is_(None), Task.id < task_id), column.is_not(None))
            return key < after_key
        if value is None:  # dates upwards, then NULLs
            return and_(column.is_(None), Task.id > task_id)
        return or_(key > after_key, column.is_(None))


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(text: str) -> ColumnElement[bool]:
    pattern = _like_pattern(text)
    matches = or_(
        Task.title.ilike(pattern, escape="\\"), Task.description.ilike(pattern, escape="\\")
    )
    if len(text) < TRIGRAM:  # no trigram to look up: the user's rows are filtered directly
        return matches
    return and_(SEARCH_TRIGRAMS.op("@>")(func.tasks_trigrams(text)), matches)


def conditions(query: TaskQuery) -> list[ColumnElement[bool]]:
    overdue = and_(Task.due_at < func.now(), not_(Task.completed))
    found: list[ColumnElement[bool]] = []
    if query.completed is not None:
        found.append(Task.completed.is_(query.completed))
    if query.priority:
        found.append(Task.priority.in_(query.priority))
    if query.tag:
        found.append(Task.tags.contains(sorted(set(query.tag))))
    if query.q is not None:
        found.append(search(query.q))
    if query.due_before is not None:
        found.append(Task.due_at < query.due_before)
    if query.due_after is not None:
        found.append(Task.due_at > query.due_after)
    if query.overdue is not None:
        found.append(overdue if query.overdue else or_(not_(overdue), Task.due_at.is_(None)))
    return found or [true()]
