"""Task: T-431, T-432
Spec: specs/features/calendar.md §Feeds, §The feed's one statement

The statements of the routes, each built once. All run on an executor scoped to one user (the
caller, or the feed's owner named by its URL), so none mentions the user.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Boolean,
    Integer,
    Text,
    and_,
    bindparam,
    delete,
    exists,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col

from app.core import free_slot, take_slot
from app.plugins.calendar.models import CalendarFeed, FeedSlots
from app.plugins.tasks.api import Task, TaskList

F = CalendarFeed
T = Task
ID = bindparam("id", type_=Text)

FEED_COLUMNS = (F.id, F.name, F.list_id, F.include_completed, F.created_at)
LIST = select(*FEED_COLUMNS).order_by(F.created_at, F.id)

# A creation takes a slot of the user's counter in the same statement, only when `list_id` (if
# given) names a list the caller can read; no slot free, or no such list, and nothing is
# inserted (the route asks which).
SLOTS = FeedSlots.__table__  # type: ignore[attr-defined]
LIST_ID = bindparam("list_id", type_=Text)
_readable = or_(LIST_ID.is_(None), exists().where(col(TaskList.id) == LIST_ID))
_slot = take_slot(SLOTS, [], select().where(_readable), bindparam("max", type_=Integer), "slot")
_TYPES = {
    "id": Text,
    "name": Text,
    "list_id": Text,
    "include_completed": Boolean,
    "token_hash": Text,
}
CREATE = (
    insert(F)
    .from_select(
        list(_TYPES),
        select(*(bindparam(name, type_=kind) for name, kind in _TYPES.items())).select_from(_slot),
    )
    .returning(*FEED_COLUMNS)
)
# Whether the list is one the caller can read: asked only after a creation inserted nothing.
READABLE = select(_readable)

_deleted = delete(F).where(F.id == ID).returning(F.user_id).cte("deleted")
# A revocation gives the slot back in the same statement.
DELETE = free_slot(
    SLOTS, SLOTS.c.user_id == select(_deleted.c.user_id).scalar_subquery()
).returning(literal(True))

TASK_COLUMNS = (
    T.id,
    T.title,
    T.description,
    T.completed,
    T.completed_at,
    T.priority,
    T.due_at,
    T.tags,
    T.created_at,
    T.updated_at,
    T.version,
)


def feed_statement(recurrences: Sequence[Any]) -> Any:
    """The `.ics` route's one statement: the feed row (by id and token digest) LEFT JOINed with
    its due tasks, nearest to now first, and each task's rule where a plugin answers
    `calendar_recurrences`. No feed, no row; a feed without tasks, one row of nulls."""
    due = and_(
        col(T.due_at).is_not(None),
        or_(col(F.list_id).is_(None), col(T.list_id) == F.list_id),
        or_(col(F.include_completed), col(T.completed).is_(False)),
    )
    query = select(F.name, *TASK_COLUMNS).select_from(F).outerjoin(T, due)
    if recurrences:
        rules = (
            union_all(*recurrences).subquery("rules")
            if len(recurrences) > 1
            else (recurrences[0].subquery("rules"))
        )
        query = query.outerjoin(rules, rules.c.task_id == T.id).add_columns(
            rules.c.rule, rules.c.timezone
        )
    else:
        query = query.add_columns(null().label("rule"), null().label("timezone"))
    distance = func.abs(func.extract("epoch", col(T.due_at) - func.now()))
    return (
        query.where(F.id == ID, F.token_hash == bindparam("token_hash", type_=Text))
        .order_by(distance, T.id)
        .limit(bindparam("max", type_=Integer))
    )
