"""Recurrences in shared lists: each carries its task's list, and follows its task.

Task: T-370, T-371
Spec: specs/features/recurring.md §Shared lists

A recurrence is reached like its task: through the list's membership (`Shared` on `list_id`).
It references its task by `(task_id, list_id, user_id)` → `tasks (id, list_id, user_id)` ON
DELETE CASCADE ON UPDATE CASCADE, so a task moved to another list, or handed over with its list,
takes its recurrence along, and a recurrence is in its task's list by construction.

Revision ID: recurring_0002
Revises: recurring_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "recurring_0002"
down_revision = "recurring_0001"
branch_labels = None
# The key it references, uq_tasks_id_list_user, is made by tasks_0006.
depends_on = "tasks_0006"


def upgrade() -> None:
    op.add_column("recurrences", sa.Column("list_id", sa.Text(), nullable=True))
    # Every recurrence takes its task's list, and its owner (a task an editor moved into
    # someone else's list before this revision became theirs; its recurrence did not). Not in
    # the change feed: the rows' content a client knows is unchanged.
    op.execute("ALTER TABLE recurrences DISABLE TRIGGER USER")
    op.execute(
        "UPDATE recurrences r SET list_id = t.list_id, user_id = t.user_id"
        " FROM tasks t WHERE t.id = r.task_id"
    )
    op.execute("ALTER TABLE recurrences ENABLE TRIGGER USER")
    op.alter_column("recurrences", "list_id", nullable=False)
    op.drop_constraint("recurrences_task_id_fkey", "recurrences", type_="foreignkey")
    op.create_foreign_key(
        "recurrences_task_id_fkey",
        "recurrences",
        "tasks",
        ["task_id", "list_id", "user_id"],
        ["id", "list_id", "user_id"],
        ondelete="CASCADE",
        onupdate="CASCADE",
    )
    # A list's recurrences: what the change feed gives a member who joins or leaves it.
    op.create_index("ix_recurrences_list", "recurrences", ["list_id"])


def downgrade() -> None:
    op.drop_index("ix_recurrences_list", "recurrences")
    op.drop_constraint("recurrences_task_id_fkey", "recurrences", type_="foreignkey")
    op.create_foreign_key(
        "recurrences_task_id_fkey", "recurrences", "tasks", ["task_id"], ["id"], ondelete="CASCADE"
    )
    op.drop_column("recurrences", "list_id")
