"""Task: T-291, T-295, T-352
Spec: specs/api/rest-endpoints.md §Subtasks; specs/features/recurring.md §Subtasks

A task's place in its tree, as the API answers a refused one, and handing a task's subtasks
over to another (a recurring task's next occurrence). The rules are checked by the
database, in the writing statement (migration tasks_0005's `tasks_tree_check` trigger, under a
per-user lock); what it refuses arrives here as a `check_violation` of `ck_tasks_parent`, whose
message is the reason and whose detail is the refused task's id, and becomes a 422 naming
`parent_id`. An assignee who is neither the list's owner nor one of its members is refused the
same way (tasks_0006's `tasks_assignee_check`, `ck_tasks_assignee`), a 422 naming
`assignee_id`. The database's own text never reaches a response.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import asyncpg
from sqlalchemy import DateTime, Text, bindparam, case, or_, select, update
from sqlmodel import col

from app.core import caller, invalid
from app.plugins.tasks.models import Task
from app.plugins.tasks.schemas import COLUMNS

# The field each constraint's refusals name.
FIELDS = {"ck_tasks_parent": "parent_id", "ck_tasks_assignee": "assignee_id"}
MAX_DEPTH = 4  # migration tasks_0005 keeps its own copy
# Another user's task is "no such task", as any id of theirs is: nothing about it leaks.
REASONS = {
    "parent": "no such task of yours",
    "cycle": "a task cannot be its own subtask nor one of its subtasks' (a cycle)",
    "depth": f"subtasks nest at most {MAX_DEPTH} levels deep (the moved subtasks included)",
    "list": "a subtask is in its parent's list: this parent is in another one",
    "assignee": "not the list's owner nor one of its members",
}


@dataclass(frozen=True)
class Refusal:
    """Why a write's `parent_id` or `assignee_id` (`field`) was refused, and the task it was
    for."""

    task_id: str
    reason: str
    field: str

    @property
    def message(self) -> str:
        return REASONS[self.reason]

    @classmethod
    def of(cls, exc: BaseException) -> "Refusal | None":
        """The refusal `exc` is, if it is one (else None: some other error)."""
        if not isinstance(exc, asyncpg.CheckViolationError):
            return None
        reason = getattr(exc, "message", None)
        field = FIELDS.get(str(exc.constraint_name))
        if field is None or reason not in REASONS:
            return None
        return cls(str(exc.detail), reason, field)


@contextmanager
def refusals_checked() -> Iterator[None]:
    """Around a single route's write: a refused `parent_id` or `assignee_id` is a 422 naming
    it."""
    try:
        yield
    except asyncpg.CheckViolationError as exc:
        refusal = Refusal.of(exc)
        if refusal is None:
            raise
        raise invalid(("body", refusal.field), refusal.message, refusal.field) from None


# The subtasks of :id, at every level below it.
_ID = bindparam("id", type_=Text)
_below = select(col(Task.id)).where(col(Task.parent_id) == _ID).cte("below", recursive=True)
_below = _below.union_all(select(col(Task.id)).join(_below, col(Task.parent_id) == _below.c.id))
# :id's children move under :to, and its whole subtree is open again (only the rows that
# change: each gets a version and a change-log entry); the moved rows are returned.
HAND_OVER = (
    update(Task)
    .where(
        col(Task.id).in_(select(_below.c.id)),
        or_(col(Task.parent_id) == _ID, col(Task.completed)),
    )
    .values(
        parent_id=case(
            (col(Task.parent_id) == _ID, bindparam("to", type_=Text)), else_=Task.parent_id
        ),
        completed=False,
        completed_at=None,
        completed_by=None,
        updated_at=bindparam("now", type_=DateTime(timezone=True)),
        updated_by=caller(),
        version=Task.version + 1,
    )
    .returning(*COLUMNS)
)
