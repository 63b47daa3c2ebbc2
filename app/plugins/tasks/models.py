"""Task: T-033, T-142, T-280, T-290, T-303, T-322, T-351
Spec: specs/database/schema.md §tasks plugin; specs/features/sharing.md §Model

The `lists`, `list_members`, `list_invitations`, `tasks` and `task_idempotency_keys` tables,
all user-owned (`Owned`), so every statement on them is scoped to the request's user by the
kernel. Lists, their members and their tasks are `Shared` through `list_members`: a row's
`user_id` is its list's owner, and the list's members reach it at their role.
"""

import enum
import hashlib
import uuid
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, SmallInteger, Text
from sqlalchemy import Enum as SAEnum
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field

from app.core import OWNER_ROLE, Membership, Owned, new_id, utcnow
from app.plugins.tasks.access import Shared


def default_list_id(owner: str) -> str:
    """The id of `owner`'s default list, derived from theirs (as migration tasks_0004 does in
    SQL), so a create in it can make it in the same statement without reading it first."""
    return str(uuid.UUID(hashlib.md5(f"list:{owner}".encode()).hexdigest()))


def new_task(values: dict[str, Any], owner: str, now: datetime) -> dict[str, Any]:
    """A task to create (`values`: a validated `TaskCreate`): everything but its `position`
    (the statement computes it) is known before sending, the id included, so a retried INSERT
    recognises its own row. Without a `list_id`, the owner's default list (made by the insert
    if missing). The actors are the caller (`owner`), as the statement itself sets them
    (`caller()`): here for the answers made from these values (a stored response, a tell)."""
    default = default_list_id(owner)
    return {
        "id": new_id(),
        "user_id": owner,
        "parent_id": None,  # a top-level task unless `values` say otherwise
        "assignee_id": None,  # nobody's unless `values` say otherwise
        **values,
        # A subtask without one goes to its parent's list (the statement reads it).
        "list_id": values.get("list_id") or (None if values.get("parent_id") else default),
        "completed_at": now if values["completed"] else None,
        "created_by": owner,
        "updated_by": owner,
        "completed_by": owner if values["completed"] else None,
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }


class Priority(enum.StrEnum):
    # Declaration order is the rank: the PostgreSQL enum sorts by it, so `sort=priority` and
    # its keyset comparisons use an index instead of a CASE expression.
    none = "none"
    low = "low"
    medium = "medium"
    high = "high"


PRIORITY_TYPE = SAEnum(
    Priority, name="task_priority", values_callable=lambda members: [m.value for m in members]
)


# Position keys compare byte by byte, whatever the database's default collation.
POSITION_TYPE = Text(collation="C")


class Role(enum.StrEnum):
    """A member's role on a list, least first; the list's owner is above them (`owner`)."""

    viewer = "viewer"
    editor = "editor"


class ListMember(Owned, table=True):
    """A member of a list other than its owner (`user_id`, the list's owner, as on every row
    of the list): `member_id` reaches the list and its tasks as `role`."""

    __tablename__ = "list_members"
    # Joins and departures are in the members' feeds as the list and its tasks (sharing.md).
    __table_args__: ClassVar[dict[str, Any]] = {"info": {"change_feed": False}}

    list_id: str = Field(primary_key=True)
    member_id: str = Field(primary_key=True)
    role: Role = Field(sa_column=Column(Text, nullable=False))
    joined_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


LIST_MEMBERS = Membership(ListMember.__table__, roles=tuple(Role))  # type: ignore[attr-defined]
# Members read the member list; only the owner changes it (a member may leave).
ListMember.__table__.info["access"] = Shared(  # type: ignore[attr-defined]
    LIST_MEMBERS, column="list_id", read=Role.viewer, write=OWNER_ROLE
)


class ListInvitation(Owned, table=True):
    """A link that makes whoever accepts it a member of a list. Only the owner sees them; the
    token itself is stored as its SHA-256."""

    __tablename__ = "list_invitations"
    __table_args__: ClassVar[dict[str, Any]] = {
        "info": {
            "change_feed": False,
            "access": Shared(LIST_MEMBERS, column="list_id", read=OWNER_ROLE, write=OWNER_ROLE),
        }
    }

    id: str = Field(default_factory=new_id, primary_key=True)
    list_id: str = Field(sa_column=Column(Text, nullable=False))
    role: Role = Field(sa_column=Column(Text, nullable=False))
    token_hash: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    expires_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    max_uses: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    uses: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class TaskList(Owned, table=True):
    """A list of tasks; deleting it deletes them (tasks.list_id's ON DELETE CASCADE)."""

    __tablename__ = "lists"
    # The default list is every user's from the start (GET /lists shows it before it is
    # stored): storing it, on first need, is not in the change feed; its later changes are.
    # Members read it; renaming, moving, deleting and sharing it are the owner's.
    __table_args__: ClassVar[dict[str, Any]] = {
        "info": {
            "change_feed_create_when": "NOT NEW.is_default",
            "access": Shared(LIST_MEMBERS, column="id", read=Role.viewer, write=OWNER_ROLE),
        }
    }

    id: str = Field(default_factory=new_id, primary_key=True)
    name: str = Field(sa_column=Column(Text, nullable=False))
    position: str = Field(sa_column=Column(POSITION_TYPE, nullable=False))
    is_default: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))


class Task(Owned, table=True):
    __tablename__ = "tasks"
    # A list's viewers read its tasks, its editors write them too.
    __table_args__: ClassVar[dict[str, Any]] = {
        "info": {
            "access": Shared(LIST_MEMBERS, column="list_id", read=Role.viewer, write=Role.editor)
        }
    }

    id: str = Field(default_factory=new_id, primary_key=True)
    list_id: str = Field(sa_column=Column(Text, nullable=False))
    position: str = Field(sa_column=Column(POSITION_TYPE, nullable=False))
    title: str = Field(sa_column=Column(Text, nullable=False))
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    completed: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    completed_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    priority: Priority = Field(
        default=Priority.none, sa_column=Column(PRIORITY_TYPE, nullable=False)
    )
    due_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    tags: list[str] = Field(default_factory=list, sa_column=Column(ARRAY(Text), nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    # +1 on every change; the ETag is "<id>.<version>", and If-Match compares it in the UPDATE.
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    # The task this one is a subtask of (null: top level). Migration tasks_0005's triggers keep
    # the tree's rules (same owner, no cycle, at most 4 deep) and complete subtrees.
    parent_id: str | None = Field(
        default=None,
        sa_column=Column(Text, ForeignKey("tasks.id", ondelete="CASCADE"), nullable=True),
    )
    # Who created, last changed and completed it (user ids, set by the API from the caller),
    # and whom it is assigned to: the list's owner or one of its members (tasks_0006).
    created_by: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    updated_by: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    completed_by: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    assignee_id: str | None = Field(
        default=None,
        sa_column=Column(Text, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    )


class IdempotencyKey(Owned, table=True):
    """The first response to a `POST /tasks` carrying an `Idempotency-Key`, replayed on retry."""

    __tablename__ = "task_idempotency_keys"
    # Bookkeeping, not the user's data: not in the change feed.
    __table_args__: ClassVar[dict[str, Any]] = {"info": {"change_feed": False}}

    # Keys are per user: the owner is part of the primary key.
    user_id: str = Field(primary_key=True)
    key: str = Field(primary_key=True)
    request_hash: str
    status_code: int = Field(sa_column=Column(SmallInteger, nullable=False))
    body: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    headers: dict[str, str] = Field(sa_column=Column(JSONB, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
