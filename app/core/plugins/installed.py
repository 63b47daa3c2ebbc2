"""Task: T-005
Spec: specs/features/plugins.md §Loading

The plugins this environment could load, described without importing them.
"""

import importlib.metadata
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from app.core.errors import ConfigError

ENTRY_POINT_GROUP = "todo_api.plugins"
BUILTINS = {
    name: f"app.plugins.{name}"
    for name in (
        "health",
        "auth",
        "changes",
        "jobs",
        "tasks",
        "recurring",
        "reminders",
        "webhooks",
        "mail",
        "quickadd",
        "calendar",
        "mcp",
    )
}


@dataclass(frozen=True)
class Installed:
    """A plugin that could be enabled: a built-in or an entry point, not yet imported."""

    name: str
    module: str
    source: str  # "built-in" or the distribution that ships it
    version: str

    @property
    def package_dir(self) -> Path | None:
        # Found without running the plugin's module.
        spec = importlib.util.find_spec(self.module)
        if spec is None or spec.origin is None:
            return None
        return Path(spec.origin).parent

    @property
    def migrations_dir(self) -> Path | None:
        """`<package>/migrations/versions`, when the plugin ships migrations."""
        folder = self.package_dir
        versions = folder / "migrations" / "versions" if folder else None
        return versions if versions and versions.is_dir() else None


def installed_plugins() -> dict[str, Installed]:
    """Every plugin this environment can load, by name."""
    version = importlib.metadata.version("todo-api")
    found = {
        name: Installed(name, module, "built-in", version) for name, module in BUILTINS.items()
    }
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry.name in found:
            raise ConfigError(
                f"entry point {entry.name!r} from {entry.dist.name if entry.dist else '?'} "
                "clashes with an installed plugin of the same name; uninstall one of them"
            )
        dist = entry.dist
        found[entry.name] = Installed(
            entry.name,
            entry.module,
            dist.name if dist else "unknown package",
            dist.version if dist else "?",
        )
    return found
