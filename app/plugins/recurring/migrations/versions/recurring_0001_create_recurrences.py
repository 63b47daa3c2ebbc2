"""Create the recurrences table.

Task: T-170
Spec: specs/features/recurring.md §Data

Revision ID: recurring_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from app.core import owner_column

revision = "recurring_0001"
down_revision = None
branch_labels = ("recurring",)
# task_id references tasks.id (and user_id, through it, auth's users).
depends_on = "tasks_0001"

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "recurrences",
        # One row per occurrence, going with its task: deleting a task ends its series there.
        sa.Column(
            "task_id",
            sa.Text(),
            sa.ForeignKey("tasks.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        owner_column("recurrences"),
        sa.Column("series_id", sa.Text(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("timezone", sa.Text(), nullable=False),
        # No foreign key: it records that the successor was made, even once it is deleted.
        sa.Column("successor_id", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", TIMESTAMP, nullable=False, server_default=sa.func.now()),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.CheckConstraint("char_length(rule) <= 500", name="ck_recurrences_rule_length"),
        sa.CheckConstraint("version >= 1", name="ck_recurrences_version"),
    )
    op.create_index("ix_recurrences_user_series", "recurrences", ["user_id", "series_id"])


def downgrade() -> None:
    op.drop_table("recurrences")
