"""Task: T-115, T-244
Spec: specs/features/plugins.md §Command line

`todo-api revision`: an empty revision at the head of a plugin's branch, to fill in by hand.
"""

from collections.abc import Mapping
from pathlib import Path

from alembic import command

from app.cli.checkouts import Checkout, writable_source
from app.core.db.migrations import Migrations
from app.core.plugins.installed import Installed


def new_revision(plugins: Mapping[str, Installed | Checkout], name: str, message: str) -> Path:
    """Write an empty revision at the head of plugin `name`'s branch (starting the branch if it
    has none) into `<package>/migrations/versions`, with the id `<name>_NNNN`; return its path.
    Only this project's own plugins get its `Task:`/`Spec:` header."""
    versions = writable_source(plugins[name]) / "migrations" / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    migrations = Migrations(plugins.values(), [name])
    migrations.config.attributes["project_header"] = plugins[name].source == "built-in"
    if name in migrations.heads:
        number = sum(1 for _ in migrations.script.iterate_revisions(f"{name}@head", "base")) + 1
        head, label = f"{name}@head", None
    else:
        number, head, label = 1, "base", name
    script = command.revision(
        migrations.config,
        message,
        rev_id=f"{name}_{number:04d}",
        version_path=str(versions),
        head=head,
        branch_label=label,
    )
    assert script is not None and not isinstance(script, list)
    return Path(script.path)
