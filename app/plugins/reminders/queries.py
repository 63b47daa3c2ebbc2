"""Task: T-183, T-184, T-201, T-366
Spec: specs/features/reminders.md §Firing exactly once, §Following the task

The statements of the reminders plugin, each built once. Every one is sent through an owned
executor, so the kernel scopes it to one user (the reminders, the inbox and the tasks they read
alike); none mentions a user. Subqueries, not `UPDATE … FROM`, read the task, so they are scoped
too.
"""

from typing import Any

from sqlalchemy import (
    DateTime,
    Float,
    Integer,
    Text,
    and_,
    any_,
    bindparam,
    case,
    cast,
    delete,
    exists,
    func,
    literal,
    not_,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.orm import aliased
from sqlmodel import col

from app.core import EARLIEST, LATEST, free_slot, take_slot
from app.plugins.reminders.models import InboxItem, Reminder, TaskSlots
from app.plugins.tasks.api import Task

TIME = DateTime(timezone=True)
ID = bindparam("id", type_=Text)
TASK_ID = bindparam("task_id", type_=Text)
NOW = bindparam("now", type_=TIME)
IDS = bindparam("ids", type_=ARRAY(Text))
# The instants the API can represent (`app.core.EARLIEST` … `LATEST`): a relative reminder
# whose time would fall outside them has none, and never fires.
REPRESENTABLE = (literal(EARLIEST, TIME), literal(LATEST, TIME))

R = Reminder.__table__.c  # type: ignore[attr-defined]
SLOTS = TaskSlots.__table__  # type: ignore[attr-defined]
I = InboxItem.__table__.c  # type: ignore[attr-defined]  # noqa: E741
T = Task.__table__.c  # type: ignore[attr-defined]
COLUMNS = tuple(
    R[name]
    for name in (
        "id", "user_id", "task_id", "at", "offset_seconds", "fire_at", "fired_at",
        "cancelled_at", "cancel_reason", "created_at", "updated_at", "version",
    )
)  # fmt: skip
INBOX_COLUMNS = tuple(I)


def relative(due_at: Any, offset_seconds: Any) -> Any:
    """`due_at + offset`, or NULL when there is no due time or the result leaves the range."""
    moved = due_at + func.make_interval(0, 0, 0, 0, 0, 0, cast(offset_seconds, Float))
    return case((moved.between(*REPRESENTABLE), moved), else_=None)


def _task(*criteria: Any) -> Any:
    """A subquery on the reminder's own task (correlated to the reminder of the statement)."""
    return select(T.id).where(T.id == R.task_id, *criteria)


# Create: INSERT … SELECT from the task, so another user's task (scoped away) or a missing one
# inserts nothing; a relative reminder needs the task's due_at; a slot of the task's counter is
# taken in the same statement (`take_slot`: the limit holds however many race). The id is
# chosen before sending: a retried INSERT finds its own row (ON CONFLICT DO NOTHING) and takes
# no second slot.
AT = bindparam("at", type_=TIME)
OFFSET = bindparam("offset_seconds", type_=Integer)
LIMIT = bindparam("max_per_task", type_=Integer)
_count = select(func.count()).select_from(Reminder).where(R.task_id == TASK_ID).scalar_subquery()
_slot = take_slot(
    SLOTS,
    ["task_id"],
    select(T.id).where(
        T.id == TASK_ID,
        or_(AT.is_not(None), T.due_at.is_not(None)),
        not_(exists(select(R.id).where(R.id == ID))),
    ),
    LIMIT,
    "slot",
)
CREATE = (
    insert(Reminder)
    .from_select(
        ["id", "task_id", "at", "offset_seconds", "fire_at", "created_at", "updated_at"],
        select(ID, T.id, AT, OFFSET, func.coalesce(AT, relative(T.due_at, OFFSET)), NOW, NOW)
        .select_from(Task)
        .join(_slot, _slot.c.task_id == T.id),
    )
    .on_conflict_do_nothing(index_elements=[R.id])
    .returning(*COLUMNS)
)
# Why a create inserted nothing (the error path only): no task, no due_at, or too many.
DIAGNOSE = select(T.due_at, _count.label("reminders")).where(T.id == TASK_ID)

GET = select(*COLUMNS).where(R.id == ID)
# A task and its reminders in one round trip: the task is the outer side, so a task without
# reminders is one row of NULLs and another user's task no row at all.
LIST = (
    select(T.id.label("task"), *COLUMNS)
    .select_from(Task)
    .outerjoin(Reminder, and_(R.task_id == T.id))
    .where(T.id == TASK_ID)
    .order_by(R.fire_at.asc().nulls_last(), R.created_at, R.id)
)
# A deleted reminder gives its slot back in the same statement.
_gone = delete(Reminder).where(R.id == ID).returning(R.id, R.task_id).cte("gone")
_freed = free_slot(SLOTS, SLOTS.c.task_id.in_(select(_gone.c.task_id))).cte("freed")
DELETE = select(_gone.c.id).add_cte(_freed)

# Fire one reminder: a single statement, so any number of jobs and sweeps racing for it fire it
# once. The UPDATE claims the reminder only while it is pending and due and its task is not
# completed; a concurrent claimant waits on the row lock, then finds `fired_at` set and claims
# nothing. The inbox row is written by the same statement, from what the UPDATE returned.
_fired = (
    update(Reminder)
    .where(
        R.id == ID,
        R.fired_at.is_(None),
        R.cancelled_at.is_(None),
        R.fire_at <= NOW,
        exists(_task(not_(T.completed))),
    )
    .values(fired_at=NOW, updated_at=NOW, version=R.version + 1)
    .returning(R.id, R.task_id, R.fire_at)
    .cte("fired")
)
# A reminder whose setter no longer reaches its task (removed from its shared list) is
# cancelled when due instead: it never fires for them, and no sweep picks it up again.
LOST = "access_lost"
_lost = (
    update(Reminder)
    .where(
        R.id == ID,
        R.fired_at.is_(None),
        R.cancelled_at.is_(None),
        R.fire_at <= NOW,
        not_(exists(_task())),
    )
    .values(cancelled_at=NOW, cancel_reason=LOST, updated_at=NOW, version=R.version + 1)
    .cte("lost")
)
_title = select(T.title).where(T.id == _fired.c.task_id).scalar_subquery()
FIRE = (
    insert(InboxItem)
    .from_select(
        ["id", "reminder_id", "task_id", "title", "fire_at", "fired_at"],
        select(
            bindparam("inbox_id", type_=Text),
            _fired.c.id,
            _fired.c.task_id,
            func.coalesce(_title, ""),
            _fired.c.fire_at,
            NOW,
        ),
    )
    .on_conflict_do_nothing(index_elements=[I.reminder_id])
    .returning(I.id)
    .add_cte(_lost)
)
# The sweep's look across users (not on behalf of one): plain SQL through the unscoped
# database, the kernel's escape hatch; each reminder found is then fired as its owner (FIRE).
DUE = text(
    "SELECT id, user_id FROM reminders"
    " WHERE fired_at IS NULL AND cancelled_at IS NULL AND fire_at <= :now"
    " ORDER BY fire_at LIMIT :limit"
)

# Which of the changed tasks carry reminders not fired yet, across users (plain SQL through the
# unscoped transaction, as for DUE): most tasks have none, and cost nothing more.
WITH_PENDING = text(
    "SELECT DISTINCT user_id, task_id FROM reminders WHERE task_id = ANY(:ids) AND fired_at IS NULL"
)

# Following the tasks (the after-commit consumer), for the tasks `ids` of one user, from each
# task's current row (so replaying a change, or several at once, converges on the same state).
_due = select(T.due_at).where(T.id == R.task_id).scalar_subquery()
_target = relative(_due, R.offset_seconds)
MOVE = (
    update(Reminder)
    .where(
        R.task_id == any_(IDS),
        R.offset_seconds.is_not(None),
        R.fired_at.is_(None),
        R.fire_at.is_distinct_from(_target),
    )
    .values(fire_at=_target, updated_at=NOW, version=R.version + 1)
    .returning(R.id, R.fire_at, R.cancelled_at)
)
COMPLETED = "task_completed"
CANCEL = (
    update(Reminder)
    .where(
        R.task_id == any_(IDS),
        R.fired_at.is_(None),
        R.cancelled_at.is_(None),
        exists(_task(T.completed)),
    )
    .values(cancelled_at=NOW, cancel_reason=COMPLETED, updated_at=NOW, version=R.version + 1)
)
REARM = (
    update(Reminder)
    .where(
        R.task_id == any_(IDS),
        R.fired_at.is_(None),
        R.cancel_reason == COMPLETED,
        R.fire_at > NOW,
        exists(_task(not_(T.completed))),
    )
    .values(cancelled_at=None, cancel_reason=None, updated_at=NOW, version=R.version + 1)
    .returning(R.id, R.fire_at, R.cancelled_at)
)

# The inbox, newest first; after a cursor (an item's id), the items before it.
PAGE_SIZE = bindparam("limit", type_=Integer)
INBOX = select(*INBOX_COLUMNS).order_by(I.fired_at.desc(), I.id.desc()).limit(PAGE_SIZE)
_cursor = aliased(InboxItem, name="cursor")
_cursor_at = select(col(_cursor.fired_at)).where(col(_cursor.id) == ID).scalar_subquery()
INBOX_BEFORE = INBOX.where(or_(I.fired_at < _cursor_at, and_(I.fired_at == _cursor_at, I.id < ID)))
INBOX_GET = select(*INBOX_COLUMNS).where(I.id == ID)
MARK_READ = (
    update(InboxItem)
    .where(I.id == ID, I.read_at.is_(None))
    .values(read_at=NOW, version=I.version + 1)
    .returning(*INBOX_COLUMNS)
)
