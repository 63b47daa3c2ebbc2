"""Count each user's endpoints in a row of their own, so the endpoint limit holds under races.

Task: T-214
Spec: specs/features/webhooks.md §Tables

Revision ID: webhooks_0002
Revises: webhooks_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "webhooks_0002"
down_revision = "webhooks_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_slots",
        sa.Column(
            "user_id", sa.Text(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.CheckConstraint("used >= 0", name="ck_webhook_slots_used"),
    )
    # The endpoints registered before the counter: counted once, here.
    op.execute(
        "INSERT INTO webhook_slots (user_id, used)"
        " SELECT user_id, count(*) FROM webhook_endpoints GROUP BY user_id"
    )


def downgrade() -> None:
    op.drop_table("webhook_slots")
