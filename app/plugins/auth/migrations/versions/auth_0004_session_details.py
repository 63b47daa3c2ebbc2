"""Record each refresh token's client: its user agent and address, shown in the session list.

Task: T-390
Spec: specs/database/schema.md §auth plugin; specs/features/authentication.md §Sessions

Revision ID: auth_0004
Revises: auth_0003
"""

import sqlalchemy as sa
from alembic import op

revision = "auth_0004"
down_revision = "auth_0003"
branch_labels = None  # on the `auth` branch, labelled by auth_0001
depends_on = None


def upgrade() -> None:
    op.add_column("refresh_tokens", sa.Column("user_agent", sa.Text(), nullable=True))
    op.add_column("refresh_tokens", sa.Column("address", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("refresh_tokens", "address")
    op.drop_column("refresh_tokens", "user_agent")
