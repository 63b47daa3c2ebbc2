"""One-time account tokens (password reset, email verification) and users.email_verified_at.

Task: T-382
Spec: specs/database/schema.md §auth plugin

Revision ID: auth_0003
Revises: auth_0002
"""

import sqlalchemy as sa
from alembic import op

from app.core import owner_column

revision = "auth_0003"
down_revision = "auth_0002"
branch_labels = None  # on the `auth` branch, labelled by auth_0001
depends_on = None


def upgrade() -> None:
    op.add_column(
        "users", sa.Column("email_verified_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_table(
        "account_tokens",
        sa.Column("token_hash", sa.Text(), primary_key=True),
        owner_column("account_tokens"),  # deleted with the user
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("binding", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_account_tokens_user_id", "account_tokens", ["user_id"])
    # Issuing a token deletes a few long-expired ones: found through this index.
    op.create_index("ix_account_tokens_expires_at", "account_tokens", ["expires_at"])


def downgrade() -> None:
    op.drop_table("account_tokens")
    op.drop_column("users", "email_verified_at")
