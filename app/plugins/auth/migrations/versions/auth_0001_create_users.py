"""Create the users, refresh_tokens and login_failures tables.

Task: T-021
Spec: specs/database/schema.md §auth plugin

Revision ID: auth_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from app.core import owner_column

revision = "auth_0001"
down_revision = None
branch_labels = ("auth",)
depends_on = None


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    default = None if nullable else sa.func.now()
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable, server_default=default)


def upgrade() -> None:
    op.create_table(
        "users",
        # Text, not uuid: Better Auth user ids are random strings.
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("issuer", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("password_hash", sa.Text(), nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
    )
    # Case-insensitive uniqueness of an email within one issuer (login looks up this way).
    op.create_index(
        "ux_users_issuer_email", "users", ["issuer", sa.text("lower(email)")], unique=True
    )
    op.create_table(
        "refresh_tokens",
        sa.Column("token_hash", sa.Text(), primary_key=True),
        owner_column("refresh_tokens"),
        sa.Column("family_id", sa.Text(), nullable=False),
        _timestamp("created_at"),
        _timestamp("expires_at"),
        _timestamp("used_at", nullable=True),
        _timestamp("revoked_at", nullable=True),
    )
    op.create_index("ix_refresh_tokens_user_id", "refresh_tokens", ["user_id"])
    op.create_index("ix_refresh_tokens_family_id", "refresh_tokens", ["family_id"])
    op.create_table(
        "login_failures",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("key", sa.Text(), nullable=False),
        _timestamp("at"),
    )
    op.create_index("ix_login_failures_key_at", "login_failures", ["key", "at"])


def downgrade() -> None:
    op.drop_table("login_failures")
    op.drop_table("refresh_tokens")
    op.drop_table("users")
