"""Repair due dates stored as ±infinity, and make the table refuse any outside the API's range.

Task: T-202
Spec: specs/database/schema.md §tasks plugin

Revision ID: tasks_0002
Revises: tasks_0001
"""

from alembic import op

revision = "tasks_0002"
down_revision = "tasks_0001"
branch_labels = None
depends_on = None

# `app.core.EARLIEST` and `LATEST` when this was written: a migration keeps its own copy, so it
# does the same whenever it runs.
EARLIEST = "'0001-01-02 00:00:00+00'::timestamptz"
LATEST = "'9999-12-30 23:59:59.999999+00'::timestamptz"
REPRESENTABLE = f"due_at BETWEEN {EARLIEST} AND {LATEST}"
# asyncpg wrote Python's smallest and largest datetimes as -infinity and infinity; a batch could
# store year 1 itself. Each becomes the nearest instant of the range.
CLAMPED = f"CASE WHEN due_at < {EARLIEST} THEN {EARLIEST} ELSE {LATEST} END"

# The change log's entries of such a task hold the same values (`to_jsonb`: "-infinity",
# "infinity"), which no reader can parse: they are mended in place, when the log exists.
LOG = f"""
DO $$
BEGIN
    IF to_regclass('changes') IS NOT NULL THEN
        UPDATE changes
        SET data = jsonb_set(
            data, '{{due_at}}',
            to_jsonb(CASE data ->> 'due_at' WHEN '-infinity' THEN {EARLIEST} ELSE {LATEST} END)
        )
        WHERE entity = 'tasks' AND data ->> 'due_at' IN ('-infinity', 'infinity');
    END IF;
END
$$
"""


def upgrade() -> None:
    op.execute(LOG)
    # A repair is a change like any other: a new version and `updated_at`, and (through the
    # change-log trigger) an entry in its owner's feed.
    op.execute(
        f"UPDATE tasks SET due_at = {CLAMPED}, updated_at = now(), version = version + 1 "
        f"WHERE NOT ({REPRESENTABLE})"
    )
    op.create_check_constraint("ck_tasks_due_at_representable", "tasks", REPRESENTABLE)


def downgrade() -> None:
    op.drop_constraint("ck_tasks_due_at_representable", "tasks", type_="check")
