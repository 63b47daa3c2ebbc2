"""Create the checklists table.

Revision ID: checklists_0001
Revises:
Create Date: 2026-11-25T11:34:22+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "checklists_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("checklists",)
# user_id references users.id, which the auth branch creates.
depends_on: str | Sequence[str] | None = "auth_0001"


def upgrade() -> None:
    op.create_table(
        "checklists",
        sa.Column("id", sa.Text(), primary_key=True),
        # The default constraint name, checklists_user_id_fkey, is how the kernel tells a write
        # for a deleted user (401) from other errors.
        sa.Column(
            "user_id", sa.Text(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    # Led by user_id: a user's list is a short range scan, in order, however many rows others
    # have; it also serves the cascade when a user is deleted.
    op.create_index("ix_checklists_user_created_at", "checklists", ["user_id", "created_at", "id"])


def downgrade() -> None:
    op.drop_table("checklists")
