"""The access rule's SQL function, now the tasks plugin's own.

Task: T-458
Spec: specs/features/sharing.md §The access rule

`todo_api_permitted(allowed, role)` raises SQLSTATE `TA403` (a 403) for a member of a list whose
role is too low. The kernel's migration runner made it at every start, when the access rule of
shared lists was the kernel's; the rule is now the tasks plugin's (`app.plugins.tasks.access`),
and so is its function. `CREATE OR REPLACE`: a database the runner migrated has it already.

The downgrade drops it: the code of tasks_0006 is the code whose runner makes it at start.

Revision ID: tasks_0007
Revises: tasks_0006
"""

from alembic import op

from app.core import FORBIDDEN_SQLSTATE

revision = "tasks_0007"
down_revision = "tasks_0006"
branch_labels = None
depends_on = None

# Only PL/pgSQL can raise inside a statement.
PERMITTED = f"""
CREATE OR REPLACE FUNCTION todo_api_permitted(allowed boolean, role text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF allowed THEN
        RETURN true;
    END IF;
    RAISE EXCEPTION USING ERRCODE = '{FORBIDDEN_SQLSTATE}', MESSAGE = role;
END
$$
"""


def upgrade() -> None:
    op.execute(PERMITTED)


def downgrade() -> None:
    op.execute("DROP FUNCTION todo_api_permitted(boolean, text)")
