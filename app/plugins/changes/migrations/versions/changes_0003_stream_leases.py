"""The leases of open change streams, one row per user, so the per-user cap holds across
instances.

Task: T-215
Spec: specs/database/schema.md §changes plugin

Revision ID: changes_0003
Revises: changes_0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "changes_0003"
down_revision = "changes_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # No foreign key to `users`, like `changes`: the owner may come from any authentication
    # plugin. A deleted user's row holds only leases that expire.
    op.create_table(
        "stream_leases",
        sa.Column("user_id", sa.Text(), primary_key=True),
        sa.Column("leases", postgresql.JSONB(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("stream_leases")
