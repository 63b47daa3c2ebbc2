"""Replace the failed-login log with one counter row per throttling key.

Task: T-101
Spec: specs/database/schema.md §auth plugin

The old table held one row per failure, counted by a SELECT and written by an INSERT after the
password was checked: parallel guesses all passed the count before any was written. A counter
row per key is counted and answered by one upsert per attempt instead (see throttle.py). The
old rows are dropped: they only held the last 15 minutes of failures.

Revision ID: auth_0002
Revises: auth_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "auth_0002"
down_revision = "auth_0001"
branch_labels = None  # on the `auth` branch, labelled by auth_0001
depends_on = None


def upgrade() -> None:
    op.drop_table("login_failures")
    op.create_table(
        "login_failures",
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lockouts", sa.Integer(), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    # Each attempt deletes a few expired counters of other keys: found through this index.
    op.create_index("ix_login_failures_expires_at", "login_failures", ["expires_at"])


def downgrade() -> None:
    op.drop_table("login_failures")
    op.create_table(
        "login_failures",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_login_failures_key_at", "login_failures", ["key", "at"])
