"""Install PgQueuer's schema: its tables, status type, indexes, trigger and NOTIFY function.

Task: T-162
Spec: specs/features/jobs.md §Schema

Revision ID: jobs_0001
Revises:
"""

from alembic import op
from sqlalchemy.util import await_only

from app.plugins.jobs.schema import install_sql, uninstall_sql

revision = "jobs_0001"
down_revision = None
branch_labels = ("jobs",)
depends_on = None


def _run(sql: str) -> None:
    # Many statements, with $$-quoted function bodies, in one string: asyncpg sends that only as
    # a simple query, through the raw connection. It runs in the migration's transaction.
    await_only(op.get_bind().connection.driver_connection.execute(sql))


def upgrade() -> None:
    _run(install_sql())


def downgrade() -> None:
    _run(uninstall_sql())
