"""Task: T-009
Spec: specs/features/plugins.md §Migrations

Alembic's environment. The kernel (`app.core.db.migrations`) builds the `Config` in Python — one
branch per plugin, labelled with the plugin's name — and hands over an open connection, inside
the transaction that holds the migration advisory lock.
"""

from alembic import context
from sqlmodel import SQLModel

connection = context.config.attributes.get("connection")
if connection is None:
    raise SystemExit(
        "run migrations with `todo-api migrate`, which configures Alembic for the enabled plugins"
    )

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    compare_type=True,
    # The upgrade watches which tables each revision creates (app.cli.branches.TableChanges).
    on_version_apply=context.config.attributes.get("on_version_apply"),
)
with context.begin_transaction():
    context.run_migrations()
