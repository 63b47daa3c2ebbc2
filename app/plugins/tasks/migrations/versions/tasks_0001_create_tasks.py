"""Create the tasks and task_idempotency_keys tables, their indexes and the search function.

Task: T-040
Spec: specs/database/schema.md §tasks plugin

Revision ID: tasks_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from app.core import owner_column

revision = "tasks_0001"
down_revision = None
branch_labels = ("tasks",)
depends_on = "auth_0001"

TIMESTAMP = sa.DateTime(timezone=True)
PRIORITY = postgresql.ENUM("none", "low", "medium", "high", name="task_priority")

# Lower-cased character trigrams of a text, as an array: a GIN index over it answers "contains
# every trigram of the search string", which a substring match implies. Written in plain SQL so
# it exists on every PostgreSQL: the embedded server has no pg_trgm. IMMUTABLE, so it may index.
TRIGRAMS = """
CREATE FUNCTION tasks_trigrams(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT coalesce(array_agg(DISTINCT substr(lowered, i, 3)), '{}')
    FROM (SELECT lower(value) AS lowered) AS v, generate_series(1, length(lowered) - 2) AS i
$$
"""
# Must be spelled exactly like `app.plugins.tasks.filters.SEARCH_TRIGRAMS` for the planner to
# match queries to the index.
SEARCH_EXPRESSION = "tasks_trigrams(title || ' ' || coalesce(description, ''))"


def upgrade() -> None:
    op.execute(TRIGRAMS)
    op.create_table(
        "tasks",
        sa.Column("id", sa.Text(), primary_key=True),
        owner_column("tasks"),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("completed", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("completed_at", TIMESTAMP, nullable=True),
        sa.Column("priority", PRIORITY, nullable=False, server_default="none"),
        sa.Column("due_at", TIMESTAMP, nullable=True),
        sa.Column(
            "tags", postgresql.ARRAY(sa.Text()), nullable=False, server_default=sa.text("'{}'")
        ),
        sa.Column("created_at", TIMESTAMP, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", TIMESTAMP, nullable=False, server_default=sa.func.now()),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.CheckConstraint("char_length(title) BETWEEN 1 AND 200", name="ck_tasks_title_length"),
        sa.CheckConstraint(
            "description IS NULL OR char_length(description) <= 1000",
            name="ck_tasks_description_length",
        ),
        sa.CheckConstraint("cardinality(tags) <= 20", name="ck_tasks_tag_count"),
        sa.CheckConstraint("completed = (completed_at IS NOT NULL)", name="ck_tasks_completed_at"),
        sa.CheckConstraint("version >= 1", name="ck_tasks_version"),
    )
    # One index per sort key, each led by user_id: a user's page is a short range scan, in
    # order, whatever the total row count (also serves the FK's ON DELETE CASCADE lookups).
    for key in ("created_at", "updated_at", "due_at", "priority", "title"):
        op.create_index(f"ix_tasks_user_{key}", "tasks", ["user_id", key, "id"])
    op.create_index("ix_tasks_tags", "tasks", ["tags"], postgresql_using="gin")
    op.create_index(
        "ix_tasks_search", "tasks", [sa.text(SEARCH_EXPRESSION)], postgresql_using="gin"
    )

    op.create_table(
        "task_idempotency_keys",
        owner_column("task_idempotency_keys"),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("request_hash", sa.Text(), nullable=False),
        sa.Column("status_code", sa.SmallInteger(), nullable=False),
        sa.Column("body", postgresql.JSONB(), nullable=False),
        sa.Column("headers", postgresql.JSONB(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("user_id", "key"),
    )
    # For purging keys older than 24 hours.
    op.create_index("ix_task_idempotency_keys_created_at", "task_idempotency_keys", ["created_at"])


def downgrade() -> None:
    op.drop_table("task_idempotency_keys")
    op.drop_table("tasks")
    PRIORITY.drop(op.get_bind())
    op.execute("DROP FUNCTION tasks_trigrams(text)")
