"""Create the change log, its trigger function, the purge horizon and the consumers' cursors.

Task: T-130
Spec: specs/database/schema.md §changes plugin

Revision ID: changes_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "changes_0001"
down_revision = None
branch_labels = ("changes",)
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)

# Called by the row triggers the kernel attaches to every tracked table (app.plugins.changes.triggers), with
# the table's primary key column as its argument. It records the write in the writing
# transaction, with that transaction's id (the feed's watermark orders by it), and notifies
# listeners with the user's id only: the payload stays small, the data is read from the log.
RECORD = """
CREATE FUNCTION changes_record() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    entry jsonb;
BEGIN
    IF TG_OP = 'DELETE' THEN
        entry := to_jsonb(OLD);
    ELSE
        entry := to_jsonb(NEW);
    END IF;
    INSERT INTO changes (xid, user_id, entity, entity_id, op, version, data)
    VALUES (
        pg_current_xact_id()::text::bigint,
        entry ->> 'user_id',
        TG_TABLE_NAME,
        entry ->> TG_ARGV[0],
        CASE TG_OP WHEN 'INSERT' THEN 'create' WHEN 'UPDATE' THEN 'update' ELSE 'delete' END,
        (entry ->> 'version')::integer,
        CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE entry END
    );
    PERFORM pg_notify('todo_api_changes', entry ->> 'user_id');
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "changes",
        sa.Column("xid", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("entity", sa.Text(), nullable=False),
        sa.Column("entity_id", sa.Text(), nullable=False),
        sa.Column("op", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("data", postgresql.JSONB(), nullable=True),
        sa.Column("at", TIMESTAMP, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("xid", "seq"),
        sa.CheckConstraint("op IN ('create', 'update', 'delete')", name="ck_changes_op"),
    )
    # A user's feed: a range scan after the cursor. The primary key (xid, seq) serves the
    # consumers and the poller, which read every user's changes; BRIN on `at` the purge.
    op.create_index("ix_changes_user", "changes", ["user_id", "xid", "seq"])
    op.create_index("ix_changes_at", "changes", ["at"], postgresql_using="brin")
    op.create_table(
        "changes_horizon",
        sa.Column("id", sa.Boolean(), primary_key=True, server_default=sa.true()),
        sa.Column("xid", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id", name="ck_changes_horizon_one_row"),
    )
    op.create_table(
        "change_consumers",
        sa.Column("name", sa.Text(), primary_key=True),
        sa.Column("xid", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False, server_default=sa.func.now()),
    )
    op.execute(RECORD)


def downgrade() -> None:
    op.execute("DROP FUNCTION changes_record() CASCADE")
    op.drop_table("change_consumers")
    op.drop_table("changes_horizon")
    op.drop_table("changes")
