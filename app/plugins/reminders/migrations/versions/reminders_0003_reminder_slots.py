"""Count each task's reminders in a row of their own, so the per-task limit holds under races.

Task: T-214
Spec: specs/features/reminders.md §Tables

Revision ID: reminders_0003
Revises: reminders_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "reminders_0003"
down_revision = "reminders_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reminder_slots",
        sa.Column(
            "task_id", sa.Text(), sa.ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "user_id", sa.Text(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.CheckConstraint("used >= 0", name="ck_reminder_slots_used"),
    )
    op.create_index("ix_reminder_slots_user_id", "reminder_slots", ["user_id"])
    # The reminders stored before the counter: counted once, here.
    op.execute(
        "INSERT INTO reminder_slots (task_id, user_id, used)"
        " SELECT task_id, user_id, count(*) FROM reminders GROUP BY task_id, user_id"
    )


def downgrade() -> None:
    op.drop_table("reminder_slots")
