"""Task: T-034, T-107, T-151, T-154, T-201, T-281, T-290, T-335, T-350
Spec: specs/api/rest-endpoints.md §Tasks; specs/features/sharing.md §Tasks in shared lists

Request and response bodies. Requests never carry `id`, `user_id`, timestamps or `version`;
unknown fields are rejected (422). Datetimes must carry a timezone.

Each field's docstring is its description in the OpenAPI document, and each model's example
gives its fields theirs (so the docs page never shows text made up from a pattern).
"""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, StringConstraints
from sqlalchemy import case, literal, select

from app.core import NO_NUL, OWNER_ROLE, Instant, caller, documented, is_id
from app.plugins.tasks.models import ListMember, Priority, Task, TaskList

# A caller's role on a list: its owner, or a member's.
ListRole = Literal["owner", "editor", "viewer"]

Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NO_NUL)
]
Description = Annotated[str, StringConstraints(max_length=1000, pattern=NO_NUL)]
Tag = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50, pattern=NO_NUL)
]


MAX_TAGS = 20


def _distinct(tags: list[str]) -> list[str]:
    # Duplicates are dropped, first occurrence kept, before counting: tags are a set with a
    # stable order, so 21 tags of which 20 differ are 20 tags.
    distinct = list(dict.fromkeys(tags))
    if len(distinct) > MAX_TAGS:
        raise ValueError(f"at most {MAX_TAGS} distinct tags")
    return distinct


Tags = Annotated[list[Tag], AfterValidator(_distinct)]
# A task's id (a UUID as text): anything longer names no task; a NUL no text column can hold.
ParentId = Annotated[str, StringConstraints(max_length=36, pattern=NO_NUL)]


def _uuid(value: str) -> str:
    if not is_id(value):
        raise ValueError("not the id of one of your lists")
    return value


# A user's id (`assignee_id`): local ids are UUIDs, Better Auth's random strings of its own.
UserId = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=NO_NUL)]

# A list's or a task's id in a body: a UUID (anything else names nothing of yours, a 422).
Id = Annotated[str, StringConstraints(max_length=36), AfterValidator(_uuid)]

EXAMPLE_ID = "3f2b8c1e-7d4a-4e1b-9a65-0c2d5e8f1a47"
EXAMPLE_LIST_ID = "6c1f0b9a-2d3e-4f5a-8b7c-9d0e1f2a3b4c"
EXAMPLE_PARENT_ID = "0b7e4f6a-5c2d-4e8f-9a1b-3c4d5e6f7a8b"
EXAMPLE_USER_ID = "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d"
EXAMPLE_MEMBER_ID = "5a8c2e1f-4b3d-4e6a-9c7b-1d2e3f4a5b6c"
EXAMPLE_ETAG = f'"{EXAMPLE_ID}.3"'
EXAMPLE = {
    "title": "Buy oat milk",
    "description": "Two cartons, from the shop on the corner",
    "completed": False,
    "priority": "medium",
    "due_at": "2030-01-02T17:00:00Z",
    "tags": ["shopping", "home"],
}


class TaskCreate(BaseModel):
    """A new task: only `title` is required."""

    model_config = documented(
        EXAMPLE,
        {"list_id": EXAMPLE_LIST_ID, "assignee_id": EXAMPLE_MEMBER_ID},
        {"title": "Oat milk", "parent_id": EXAMPLE_PARENT_ID},
        extra="forbid",
    )

    title: Title
    """What to do: 1 to 200 characters, surrounding whitespace trimmed."""
    description: Description | None = None
    """More about it, at most 1000 characters."""
    completed: bool = False
    """Whether it is done already."""
    priority: Priority = Priority.none
    """How much it matters: `none` < `low` < `medium` < `high`."""
    due_at: Instant | None = None
    """When it is due, with a timezone, from 0001-01-02T00:00:00Z to 9999-12-30T23:59:59.999999Z;
    answered in UTC."""
    tags: Tags = []
    """At most 20 distinct tags of 1 to 50 characters, trimmed; duplicates are dropped."""
    list_id: Id | None = None
    """The list it goes in, at the end; omitted or null: your default list."""
    parent_id: ParentId | None = None
    """The task of yours it is a subtask of (null: top level), at most 4 levels deep; else 422."""
    assignee_id: UserId | None = None
    """Whom it is assigned to: the list's owner or one of its members (else 422); null: nobody."""


class TaskUpdate(BaseModel):
    """Only the fields sent change. `title`, `completed`, `priority` and `tags` may be omitted
    but not null (their defaults are not validated, so an explicit null is a 422)."""

    model_config = documented(
        {"completed": True, "priority": "high"},
        {**EXAMPLE, "title": "Buy oat milk and bread"},
        {"parent_id": EXAMPLE_PARENT_ID},
        {"assignee_id": EXAMPLE_MEMBER_ID},
        extra="forbid",
    )

    title: Title = None  # type: ignore[assignment]
    """A new title, 1 to 200 characters; not null."""
    description: Description | None = None
    """A new description, at most 1000 characters; null clears it."""
    completed: bool = None  # type: ignore[assignment]
    """Done or not; sets or clears `completed_at`. Not null."""
    priority: Priority = None  # type: ignore[assignment]
    """A new priority; not null."""
    due_at: Instant | None = None
    """A new due time, with a timezone, in the same range; null clears it."""
    tags: Tags = None  # type: ignore[assignment]
    """The new tags, replacing the old ones (at most 20 distinct); not null."""
    parent_id: ParentId | None = None
    """Move it, with its subtasks, under this task of yours (null: to the top level). Not
    itself nor one of its subtasks, and its deepest subtask at most 4 levels deep; else 422."""
    assignee_id: UserId | None = None
    """Assign it to the list's owner or one of its members (else 422); null unassigns it."""


class TaskOut(BaseModel):
    """A task, with every field."""

    model_config = documented(
        {
            "id": EXAMPLE_ID,
            "user_id": EXAMPLE_USER_ID,
            "list_id": EXAMPLE_LIST_ID,
            "position": "a3",
            "parent_id": EXAMPLE_PARENT_ID,
            **EXAMPLE,
            "completed": True,
            "completed_at": "2030-01-02T08:15:00Z",
            "created_at": "2030-01-01T09:30:00Z",
            "updated_at": "2030-01-02T08:15:00Z",
            "version": 2,
            "created_by": EXAMPLE_USER_ID,
            "updated_by": EXAMPLE_MEMBER_ID,
            "completed_by": EXAMPLE_MEMBER_ID,
            "assignee_id": EXAMPLE_MEMBER_ID,
        },
        from_attributes=True,
    )

    id: str
    """The task's id, a UUID chosen by the server."""
    user_id: str
    """Its owner: its list's owner (you, unless someone shared the list with you)."""
    list_id: str
    """The list it is in."""
    position: str
    """Its place in its list: tasks sorted by it (as text, byte by byte), ties by id, are in
    the list's manual order. Opaque: set it with `POST /tasks/{id}/move`."""
    title: str
    """What to do."""
    description: str | None
    """More about it, or null."""
    completed: bool
    """Whether it is done."""
    completed_at: datetime | None
    """When it was completed; null while it is not."""
    priority: Priority
    """How much it matters: `none` < `low` < `medium` < `high`."""
    due_at: datetime | None
    """When it is due (UTC), or null."""
    tags: list[str]
    """Its tags, distinct, in the order given."""
    created_at: datetime
    """When it was created (UTC)."""
    updated_at: datetime
    """When it last changed (UTC)."""
    version: int
    """1 when created, +1 on every change; part of its `ETag`."""
    # A default: the change log's entries written before subtasks existed have none.
    parent_id: str | None = None
    """The task it is a subtask of, or null for a top-level task."""
    # Defaults too: the change log's entries written before sharing have none.
    created_by: str | None = None
    """Who created it (a user id; read-only)."""
    updated_by: str | None = None
    """Who changed it last (a user id; read-only)."""
    completed_by: str | None = None
    """Who completed it (a user id; read-only); null while it is open."""
    assignee_id: str | None = None
    """Whom it is assigned to: its list's owner or one of its members; null: nobody."""


# What a response shows of a task, in `TaskOut`'s order: the columns every statement returns.
COLUMNS = tuple(Task.__table__.c[name] for name in TaskOut.model_fields)  # type: ignore[attr-defined]


Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NO_NUL)
]


class ListCreate(BaseModel):
    """A new list, placed after your others."""

    model_config = documented({"name": "Groceries"}, extra="forbid")

    name: Name
    """Its name: 1 to 200 characters, surrounding whitespace trimmed."""


class ListUpdate(BaseModel):
    """A list's new name (its place changes with `POST /lists/{id}/move`)."""

    model_config = documented({"name": "Weekly groceries"}, extra="forbid")

    name: Name = None  # type: ignore[assignment]
    """A new name, 1 to 200 characters; not null."""


EXAMPLE_OWNER_ID = "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d"
EXAMPLE_LIST = {
    "id": EXAMPLE_LIST_ID,
    "name": "Groceries",
    "position": "a1",
    "is_default": False,
    "created_at": "2030-01-01T09:30:00Z",
    "updated_at": "2030-01-02T08:15:00Z",
    "version": 2,
    "owner_id": EXAMPLE_OWNER_ID,
}


class ListRow(BaseModel):
    """A list as the change feed shows it: the same for every member, so without `role`."""

    model_config = documented(EXAMPLE_LIST, from_attributes=True)

    id: str
    """The list's id, a UUID chosen by the server."""
    name: str
    """Its name."""
    position: str
    """Its place among its owner's lists: sorted by it (as text, byte by byte), ties by id.
    Opaque: set it with `POST /lists/{id}/move`."""
    is_default: bool
    """Whether it is your default list, where tasks created without `list_id` go; it cannot be
    deleted."""
    created_at: datetime
    """When it was created (UTC)."""
    updated_at: datetime
    """When it last changed (UTC)."""
    version: int
    """1 when created, +1 on every change; part of its `ETag`."""
    owner_id: str
    """Its owner's user id (you, unless it is shared with you)."""


class ListOut(ListRow):
    """A list, with every field, and your role on it."""

    model_config = documented({**EXAMPLE_LIST, "role": "owner"}, from_attributes=True)

    role: ListRole
    """Your role on it: `owner`, `editor` (writes its tasks) or `viewer` (reads them)."""


_L = TaskList.__table__.c  # type: ignore[attr-defined]
_M = ListMember.__table__.c  # type: ignore[attr-defined]
_STORED = tuple(_L[name] for name in ListRow.model_fields if name != "owner_id")
# The caller's role on a list they read: computed in the reading statement; a membership is
# looked up only for a list that is not the caller's own.
_ROLE = case(
    (_L.user_id == caller(), literal(OWNER_ROLE)),
    else_=select(_M.role)
    .where(_M.list_id == _L.id, _M.member_id == caller())
    .correlate(TaskList.__table__)  # type: ignore[attr-defined]
    .scalar_subquery(),
)
# What a response shows of a list, in `ListOut`'s order: the columns every reading statement
# returns, and every writing one (only the owner writes a list: its role is `owner`).
LIST_COLUMNS = (*_STORED, _L.user_id.label("owner_id"), _ROLE.label("role"))
OWN_LIST_COLUMNS = (*_STORED, _L.user_id.label("owner_id"), literal(OWNER_ROLE).label("role"))
