"""Set aside the changes a consumer cannot handle: the consumers' failure counts and the record.

Task: T-205
Spec: specs/database/schema.md §changes plugin, specs/features/plugins.md §Events

Revision ID: changes_0002
Revises: changes_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "changes_0002"
down_revision = "changes_0001"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Failed tries at the cursor's position, and the end of the last batch that failed: until
    # the cursor passes it, the consumer reads one change at a time, to find the poison one.
    op.add_column(
        "change_consumers",
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column("change_consumers", sa.Column("isolate_xid", sa.BigInteger(), nullable=True))
    op.add_column("change_consumers", sa.Column("isolate_seq", sa.BigInteger(), nullable=True))
    op.create_table(
        "change_set_aside",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), primary_key=True),
        sa.Column("consumer", sa.Text(), nullable=False),
        # The change's position in the log (its data stays there, not here) and what it names.
        sa.Column("xid", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("entity", sa.Text(), nullable=False),
        sa.Column("entity_id", sa.Text(), nullable=False),
        sa.Column("op", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error_type", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False, server_default=sa.func.now()),
        # Set by `todo-api set-aside retry`: the consumer hands it to its handler once more.
        sa.Column("retry", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.UniqueConstraint("consumer", "xid", "seq", name="uq_change_set_aside_change"),
    )
    op.create_index(
        "ix_change_set_aside_retry",
        "change_set_aside",
        ["consumer"],
        postgresql_where=sa.text("retry"),
    )


def downgrade() -> None:
    op.drop_table("change_set_aside")
    op.drop_column("change_consumers", "isolate_seq")
    op.drop_column("change_consumers", "isolate_xid")
    op.drop_column("change_consumers", "failures")
