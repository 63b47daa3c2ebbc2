"""Task: T-121, T-310
Spec: specs/features/plugins.md §Writing a plugin

`todo-api new-plugin NAME`: a complete, installable plugin package from the templates shipped in
`app/templates/plugin` (package data, rendered with `string.Template`): its pyproject with the
entry point, one `Owned` model whose rows hang off the tasks plugin's lists, a router, a
settings model, the hooks, a first migration on its own branch, a README and tests on the test
kit — which pass as generated.

Paths are templates too (`${package}/…`); every file ends in `.tmpl`, so neither pytest nor ruff
mistakes a template for this project's code.
"""

import importlib.metadata
import re
from datetime import UTC, datetime
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from string import Template

from app.core.db.migrations import Migrations
from app.core.errors import ConfigError
from app.core.plugins.installed import BUILTINS, installed_plugins

TEMPLATES = files("app") / "templates" / "plugin"
SUFFIX = ".tmpl"
# A plugin's name is its plugins.toml key, entry point, Alembic branch and table name.
NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


def values(name: str) -> dict[str, str]:
    """What the templates are filled with, for plugin `name` (`checklists`: the package
    `todo_api_checklists`, the model `Checklist` in the table `checklists`)."""
    installed = installed_plugins()
    if not NAME.fullmatch(name):
        raise ConfigError(
            f"plugin name {name!r}: use lower-case letters, digits and _, starting with a letter"
        )
    if name in installed:
        raise ConfigError(
            f"a plugin named {name!r} is already installed ({installed[name].source}); "
            "choose another name"
        )
    singular = name[:-1] if name.endswith("s") and len(name) > 1 else name
    heads = Migrations(installed.values(), ["auth", "tasks"]).heads
    return {
        "name": name,
        "package": f"todo_api_{name}",
        "distribution": f"todo-api-{name.replace('_', '-')}",
        "path": name.replace("_", "-"),
        "table": name,
        "model": "".join(part.capitalize() for part in singular.split("_")),
        "model_snake": singular,
        "model_text": singular.replace("_", " "),
        "param": f"{singular}_id",
        "auth_head": heads["auth"],
        # Its table references the tasks plugin's lists.
        "tasks_head": heads["tasks"],
        # The README's plugins.toml keeps every built-in on and adds this one.
        "enabled": ", ".join(f'"{plugin}"' for plugin in (*BUILTINS, name)),
        "todo_api_version": importlib.metadata.version("todo-api"),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def new_plugin(name: str, target: Path) -> list[Path]:
    """Write plugin `name`'s package into `target` (absent or empty); return the files."""
    filled = values(name)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ConfigError(f"{target} exists and is not an empty folder; name another with --dir")
    written = []
    for template, relative in _walk(TEMPLATES, ""):
        path = target / Template(relative.removesuffix(SUFFIX)).substitute(filled)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Template(template.read_text(encoding="utf-8")).substitute(filled))
        written.append(path)
    return sorted(written)


def _walk(folder: Traversable, prefix: str) -> list[tuple[Traversable, str]]:
    found = []
    for entry in folder.iterdir():
        relative = f"{prefix}{entry.name}"
        if entry.is_dir():
            found += _walk(entry, f"{relative}/")
        elif entry.name.endswith(SUFFIX):
            found.append((entry, relative))
    return found
