"""Create the reminders and reminders_inbox tables.

Task: T-180
Spec: specs/features/reminders.md §Tables

Revision ID: reminders_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from app.core import owner_column

revision = "reminders_0001"
down_revision = None
branch_labels = ("reminders",)
# task_id references tasks.id (the tasks branch, which needs auth's users).
depends_on = "tasks_0001"

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "reminders",
        sa.Column("id", sa.Text(), primary_key=True),
        owner_column("reminders"),
        sa.Column(
            "task_id", sa.Text(), sa.ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("at", TIMESTAMP, nullable=True),
        sa.Column("offset_seconds", sa.Integer(), nullable=True),
        sa.Column("fire_at", TIMESTAMP, nullable=True),
        sa.Column("fired_at", TIMESTAMP, nullable=True),
        sa.Column("cancelled_at", TIMESTAMP, nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", TIMESTAMP, nullable=False, server_default=sa.func.now()),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.CheckConstraint(
            "(at IS NULL) <> (offset_seconds IS NULL)", name="ck_reminders_at_or_offset"
        ),
        sa.CheckConstraint("version >= 1", name="ck_reminders_version"),
    )
    # A task's reminders, in order (and the cascade when a task is deleted).
    op.create_index(
        "ix_reminders_user_task", "reminders", ["user_id", "task_id", "created_at", "id"]
    )
    op.create_index("ix_reminders_task_id", "reminders", ["task_id"])
    # The sweep: pending reminders by due time, and nothing else.
    op.create_index(
        "ix_reminders_pending_fire_at",
        "reminders",
        ["fire_at"],
        postgresql_where=sa.text("fired_at IS NULL AND cancelled_at IS NULL"),
    )

    op.create_table(
        "reminders_inbox",
        sa.Column("id", sa.Text(), primary_key=True),
        owner_column("reminders_inbox"),
        # No foreign keys: an item outlives its reminder and its task.
        sa.Column("reminder_id", sa.Text(), nullable=False),
        sa.Column("task_id", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("fire_at", TIMESTAMP, nullable=False),
        sa.Column("fired_at", TIMESTAMP, nullable=False),
        sa.Column("read_at", TIMESTAMP, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        # At most one item per reminder, whatever fires it.
        sa.UniqueConstraint("reminder_id", name="uq_reminders_inbox_reminder_id"),
    )
    # Newest first, a page at a time.
    op.create_index(
        "ix_reminders_inbox_user_fired", "reminders_inbox", ["user_id", "fired_at", "id"]
    )


def downgrade() -> None:
    op.drop_table("reminders_inbox")
    op.drop_table("reminders")
