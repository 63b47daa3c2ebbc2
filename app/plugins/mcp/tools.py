"""Task: T-440
Spec: specs/features/mcp.md §Tools

The MCP tools, each a thin declaration: a name, what it does (the model reads it), its input
model (whose JSON schema and field descriptions MCP clients show), the scope it needs, and the
route it becomes. The tasks plugin's own request models are reused, so a tool takes exactly
what its route takes.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.core import NO_NUL
from app.plugins.tasks.api import TaskCreate, TaskMove, TaskQuery, TaskUpdate

READ, WRITE = "tasks:read", "tasks:write"
QUICK = "/tasks/quick"  # the quickadd plugin's route, when it is enabled

TaskId = Annotated[str, Field(min_length=1, max_length=36, pattern=NO_NUL)]


class TaskRef(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    task_id: TaskId
    """The task's id (from list_tasks or create_task)."""


class ListTasks(TaskQuery):
    """The filters of `GET /api/v1/tasks`; all optional."""


class CreateTask(TaskCreate):
    """Either the task's fields (`title` required), or `text` alone (with `timezone` and
    `list_id`): quick-add text such as "Pay rent every month on the 1st at 9am #home !high"."""

    title: Annotated[  # type: ignore[assignment]
        str | None,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NO_NUL),
    ] = None
    """What to do: 1 to 200 characters, surrounding whitespace trimmed. Required unless `text`."""
    text: (
        Annotated[str, StringConstraints(min_length=1, max_length=1000, pattern=NO_NUL)] | None
    ) = None
    """Quick-add text, parsed into title, due date, recurrence, #tags, !priority and @list when
    the server's quickadd plugin is enabled (else refused). Not with `title` or other fields."""
    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    """The IANA time zone `text`'s dates and times are in (e.g. Europe/Paris); only with `text`."""

    @model_validator(mode="after")
    def _title_or_text(self) -> "CreateTask":
        if self.text is None:
            if self.title is None:
                raise ValueError("give `title` (with other fields) or quick-add `text`")
            if self.timezone is not None:
                raise ValueError("`timezone` goes only with `text`")
        elif self.model_fields_set - {"text", "timezone", "list_id"}:
            raise ValueError("`text` goes alone (with `timezone` and `list_id` at most)")
        return self


class UpdateTask(TaskUpdate):
    """The fields to change; the others stay as they are."""

    task_id: TaskId
    """The task's id."""


class MoveTask(TaskMove):
    """Where the task goes: another list, another parent, or a place among its siblings."""

    task_id: TaskId
    """The task's id."""


class ListLists(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    limit: int | None = Field(None, ge=1)
    """Lists per page: 1 or more, at most the server's maximum; default 50."""
    cursor: str | None = Field(None, max_length=2000)
    """Where the page starts: the `next_cursor` of the previous page."""


Route = tuple[str, str]  # method, path template under /api/v1


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    model: type[BaseModel]
    scope: str
    route: Callable[[BaseModel], Route]
    # The body or query the route takes: the arguments but the path's.
    send: Callable[[BaseModel], dict[str, Any] | None] = lambda _: None

    @property
    def read_only(self) -> bool:
        """Whether it only reads: what its scope says (MCP clients show it as a hint)."""
        return self.scope == READ


def _fields(exclude: set[str]) -> Callable[[BaseModel], dict[str, Any]]:
    return lambda arguments: arguments.model_dump(mode="json", exclude_unset=True, exclude=exclude)


def _create_route(arguments: BaseModel) -> Route:
    assert isinstance(arguments, CreateTask)
    return ("POST", QUICK if arguments.text is not None else "/tasks")


def _task(method: str, suffix: str = "") -> Callable[[BaseModel], Route]:
    return lambda arguments: (method, f"/tasks/{arguments.task_id}{suffix}")  # type: ignore[attr-defined]


TOOLS = [
    Tool(
        "list_tasks",
        "Search and list the user's tasks (their own and those of lists shared with them), "
        "newest first unless `sort` says otherwise, one page at a time: filter by list, "
        "completion, priority, tags, text (`q`), due window, overdue, parent, assignee. Answers "
        "`tasks` and, when there are more, `next_cursor` to pass as `cursor` for the next page.",
        ListTasks,
        READ,
        lambda _: ("GET", "/tasks"),
        _fields(set()),
    ),
    Tool(
        "get_task",
        "Get one task by id, with every field (title, description, due_at, priority, tags, "
        "list, parent, completion, version).",
        TaskRef,
        READ,
        _task("GET"),
    ),
    Tool(
        "create_task",
        "Create a task from its fields (`title` required), or from one line of quick-add text "
        '(`text`, e.g. "Pay rent every month on the 1st at 9am #home !high") that the server '
        "parses into title, due date, recurrence, tags, priority and list. Answers the task "
        "(and, for `text`, how it was parsed).",
        CreateTask,
        WRITE,
        _create_route,
        _fields(set()),
    ),
    Tool(
        "update_task",
        "Change some fields of a task (title, description, completed, priority, due_at, tags, "
        "parent, assignee); fields not given stay as they are, null clears a nullable one. "
        "Answers the task.",
        UpdateTask,
        WRITE,
        _task("PATCH"),
        _fields({"task_id"}),
    ),
    Tool(
        "complete_task",
        "Mark a task completed (nothing changes if it already is). Answers the task.",
        TaskRef,
        WRITE,
        _task("PATCH", "/complete"),
    ),
    Tool(
        "reopen_task",
        "Mark a completed task open again (nothing changes if it is open). Answers the task.",
        TaskRef,
        WRITE,
        _task("PATCH"),
        lambda _: {"completed": False},
    ),
    Tool(
        "move_task",
        "Move a task to another list (`list_id`), under another task (`parent_id`, null: top "
        "level), or among its siblings (right `after` or `before` a sibling's id); its subtasks "
        "follow. Answers the task.",
        MoveTask,
        WRITE,
        _task("POST", "/move"),
        _fields({"task_id"}),
    ),
    Tool(
        "delete_task",
        "Delete a task, and its subtasks, for good.",
        TaskRef,
        WRITE,
        _task("DELETE"),
    ),
    Tool(
        "list_lists",
        "List the user's task lists (their own and those shared with them) in their order, "
        "with each list's id, name and the user's role. Answers `lists` and, when there are "
        "more, `next_cursor`.",
        ListLists,
        READ,
        lambda _: ("GET", "/lists"),
        _fields(set()),
    ),
]
BY_NAME = {tool.name: tool for tool in TOOLS}
