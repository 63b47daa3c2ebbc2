"""Repair reminder times stored as ±infinity, and make the tables refuse any outside the API's
range.

Task: T-203
Spec: specs/database/schema.md §reminders plugin

Revision ID: reminders_0002
Revises: reminders_0001
"""

from alembic import op

revision = "reminders_0002"
down_revision = "reminders_0001"
branch_labels = None
# After the tasks' due dates are repaired: a relative reminder's time is computed from them.
depends_on = "tasks_0002"

# `app.core.EARLIEST` and `LATEST` when this was written: a migration keeps its own copy, so it
# does the same whenever it runs.
EARLIEST = "'0001-01-02 00:00:00+00'::timestamptz"
LATEST = "'9999-12-30 23:59:59.999999+00'::timestamptz"
# The timestamp columns a request fills (`at`) or that follow from one; the others are the
# server's clock.
COLUMNS = {"reminders": ("at", "fire_at"), "reminders_inbox": ("fire_at",)}


def representable(column: str) -> str:
    return f"{column} BETWEEN {EARLIEST} AND {LATEST}"


def clamped(column: str) -> str:
    """`column` as the nearest instant of the range (NULL stays NULL)."""
    return (
        f"CASE WHEN {representable(column)} THEN {column} "
        f"WHEN {column} < {EARLIEST} THEN {EARLIEST} ELSE {LATEST} END"
    )


def log(table: str, column: str) -> str:
    """Mend the change log's entries of `table` holding -infinity or infinity in `column`."""
    return f"""
    UPDATE changes
    SET data = jsonb_set(
        data, '{{{column}}}',
        to_jsonb(CASE data ->> '{column}' WHEN '-infinity' THEN {EARLIEST} ELSE {LATEST} END)
    )
    WHERE entity = '{table}' AND data ->> '{column}' IN ('-infinity', 'infinity');
    """


# A relative reminder whose time fell outside the range has none (NULL); once its task's due
# date is repaired it may have one again.
RELATIVE = f"""
UPDATE reminders AS r
SET fire_at = t.due_at + make_interval(secs => r.offset_seconds),
    updated_at = now(), version = r.version + 1
FROM tasks AS t
WHERE t.id = r.task_id AND r.offset_seconds IS NOT NULL AND r.fire_at IS NULL
    AND r.fired_at IS NULL AND r.cancelled_at IS NULL
    AND {representable("t.due_at + make_interval(secs => r.offset_seconds)")}
"""


def upgrade() -> None:
    mended = "".join(log(table, c) for table, columns in COLUMNS.items() for c in columns)
    op.execute(f"DO $$ BEGIN IF to_regclass('changes') IS NOT NULL THEN {mended} END IF; END $$")
    # A repair is a change like any other: a new version (and `updated_at`), and (through the
    # change-log trigger) an entry in its owner's feed.
    op.execute(
        f"UPDATE reminders SET at = {clamped('at')}, fire_at = {clamped('fire_at')}, "
        "updated_at = now(), version = version + 1 "
        f"WHERE NOT {representable('at')} OR NOT {representable('fire_at')}"
    )
    op.execute(RELATIVE)
    # An inbox item's version says whether it was read (1, then 2): it stays.
    op.execute(
        f"UPDATE reminders_inbox SET fire_at = {clamped('fire_at')} "
        f"WHERE NOT {representable('fire_at')}"
    )
    for table, columns in COLUMNS.items():
        for column in columns:
            op.create_check_constraint(
                f"ck_{table}_{column}_representable", table, representable(column)
            )


def downgrade() -> None:
    for table, columns in COLUMNS.items():
        for column in columns:
            op.drop_constraint(f"ck_{table}_{column}_representable", table, type_="check")
