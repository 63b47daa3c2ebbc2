"""Create the calendar_feeds and calendar_slots tables.

Task: T-430
Spec: specs/features/calendar.md §Data

Revision ID: calendar_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from app.core import owner_column

revision = "calendar_0001"
down_revision = None
branch_labels = ("calendar",)
depends_on = "auth_0001"

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.Text(), primary_key=True),
        owner_column("calendar_feeds"),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("list_id", sa.Text(), nullable=True),
        sa.Column("include_completed", sa.Boolean(), nullable=False),
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_calendar_feeds_user_created", "calendar_feeds", ["user_id", "created_at"])
    op.create_table(
        "calendar_slots",
        sa.Column(
            "user_id", sa.Text(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.CheckConstraint("used >= 0", name="ck_calendar_slots_used"),
    )


def downgrade() -> None:
    op.drop_table("calendar_slots")
    op.drop_table("calendar_feeds")
