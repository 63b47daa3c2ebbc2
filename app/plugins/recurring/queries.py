"""Task: T-172, T-295, T-372
Spec: specs/features/recurring.md §Statements, §Shared lists

The statements of the recurring plugin, each built once. The kernel scopes every one to the
caller (or, in the completion handler, to the writer's user), so none mentions a user. A new
occurrence is written with the tasks plugin's own columns and `new_task` values, never SQL of
its own for the tasks table. Every insert of a recurrence takes its `list_id` from its task:
the kernel then stamps the list's owner as its `user_id` when an editor writes it.
"""

from sqlalchemy import DateTime, Text, and_, bindparam, delete, exists, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col

from app.plugins.recurring.models import Recurrence
from app.plugins.tasks.api import Task, create_when

TASK_ID = bindparam("task_id", type_=Text)
NOW = bindparam("now", type_=DateTime(timezone=True))
R = Recurrence.__table__.c  # type: ignore[attr-defined]
RECURRENCE = (R.task_id, R.series_id, R.rule, R.timezone, R.successor_id, R.created_at,
              R.updated_at, R.version)  # fmt: skip

# What an insert of a recurrence writes: its list is its task's, taken from the task's row.
INSERTED = ["task_id", "list_id", "series_id", "rule", "timezone", "created_at", "updated_at",
            "version"]  # fmt: skip

# The task (is it the caller's? its due_at) and its recurrence, if any, in one round trip:
# the task is the outer side (scoped in WHERE), the recurrence joined (scoped in ON).
TASK_AND_RECURRENCE = (
    select(col(Task.id).label("id"), col(Task.due_at).label("due_at"), *RECURRENCE)
    .select_from(Task)
    .outerjoin(Recurrence, and_(R.task_id == col(Task.id)))
    .where(col(Task.id) == TASK_ID)
)

GET = select(*RECURRENCE).where(R.task_id == TASK_ID)

# Create or replace a task's rule, only if the caller reaches the task (INSERT … SELECT from
# it, the task row locked against deletion meanwhile; a viewer's insert is a 403). A replaced
# rule keeps its series and its successor: it applies to the occurrences made from now on.
PUT = insert(Recurrence).from_select(
    INSERTED,
    select(
        col(Task.id),
        col(Task.list_id),
        bindparam("series_id", type_=Text),
        bindparam("rule", type_=Text),
        bindparam("timezone", type_=Text),
        NOW,
        NOW,
        1,
    )
    .where(col(Task.id) == TASK_ID)
    .with_for_update(read=True, key_share=True),
)
PUT = PUT.on_conflict_do_update(
    index_elements=[R.task_id],
    set_={
        "rule": PUT.excluded.rule,
        "timezone": PUT.excluded.timezone,
        "updated_at": PUT.excluded.updated_at,
        "version": R.version + 1,
    },
    # Nothing changes, nothing is written (and the change feed records nothing).
    where=(R.rule != PUT.excluded.rule) | (R.timezone != PUT.excluded.timezone),
).returning(*RECURRENCE)

DELETE = delete(Recurrence).where(R.task_id == TASK_ID).returning(R.task_id)

# The completion handler's first statement: the rule, locked until the transaction ends.
PENDING = (
    select(R.series_id, R.rule, R.timezone, R.successor_id)
    .where(R.task_id == TASK_ID)
    .with_for_update()
)

# The next occurrence in one statement: link it from its predecessor (only while none is
# linked: made once), then insert its task (the tasks plugin's columns, `new_task` values) and
# its recurrence (same series, the rule it carries on with, the new task's list). It answers
# the new task's owner (the list's: an editor may have completed it) and whether the predecessor
# has subtasks, so handing them over costs a statement only when there are some.
_link = (
    update(Recurrence)
    .where(R.task_id == TASK_ID, R.successor_id.is_(None))
    .values(successor_id=bindparam("id", type_=Text), updated_at=NOW, version=R.version + 1)
    .returning(R.series_id, R.timezone)
    .cte("link")
)
_made = create_when(exists(select(_link.c.series_id))).cte("made")
SPAWN = (
    insert(Recurrence)
    .from_select(
        INSERTED,
        select(
            _made.c.id,
            _made.c.list_id,
            _link.c.series_id,
            bindparam("next_rule", type_=Text),
            _link.c.timezone,
            NOW,
            NOW,
            1,
        ).select_from(_made.join(_link, and_(True))),  # type: ignore[arg-type]
    )
    .returning(
        R.task_id,
        R.user_id,
        exists(select(col(Task.id)).where(col(Task.parent_id) == TASK_ID)).label("has_subtasks"),
    )
    .add_cte(_link)
    .add_cte(_made)
)
