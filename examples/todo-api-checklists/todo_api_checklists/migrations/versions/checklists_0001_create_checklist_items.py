"""Create the checklist_items table.

Revision ID: checklists_0001
Revises:
Create Date: 2026-11-25T11:34:22+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.core import owner_column

revision: str = "checklists_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("checklists",)
# task_id references tasks.id, which the tasks branch creates (and it, users: auth_0001).
depends_on: str | Sequence[str] | None = "tasks_0001"


def upgrade() -> None:
    op.create_table(
        "checklist_items",
        sa.Column("id", sa.Text(), primary_key=True),
        owner_column("checklist_items"),
        # A task's items go with it.
        sa.Column(
            "task_id", sa.Text(), sa.ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    # Led by user_id: a task's items are a short range scan, in order; the second index serves
    # the cascades when a task or a user is deleted.
    op.create_index(
        "ix_checklist_items_user_task_created_at",
        "checklist_items",
        ["user_id", "task_id", "created_at", "id"],
    )
    op.create_index("ix_checklist_items_task_id", "checklist_items", ["task_id"])


def downgrade() -> None:
    op.drop_table("checklist_items")
