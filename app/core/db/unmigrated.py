"""Task: T-116
Spec: specs/features/plugins.md §Migrations

Enabled plugins that declare tables but ship no migrations, found before they fail a request.
"""

from app.core.plugins.context import Context
from app.core.plugins.loading import per_plugin


def unmigrated(context: Context) -> list[str]:
    """What is wrong, plugin by plugin (empty when nothing is)."""
    return [explain(name, tables) for name, tables in unmigrated_tables(context).items()]


def unmigrated_tables(context: Context) -> dict[str, list[str]]:
    """Enabled plugins that declare tables but ship no migrations: their tables, by plugin."""
    found = {}
    for name, models in per_plugin(context.hook.models):
        tables = sorted(model.__table__.name for model in models if hasattr(model, "__table__"))
        if tables and name not in context.migrations.heads:
            found[name] = tables
    return found


def explain(name: str, tables: list[str]) -> str:
    return (
        f"plugin {name!r} declares tables ({', '.join(tables)}) but ships no migrations: add "
        f"them to its package's migrations/versions (`todo-api revision {name} -m "
        '"create tables"`) and ship that folder in the package'
    )
