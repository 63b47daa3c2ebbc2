"""Task: T-003
Spec: specs/features/plugins.md §plugins.toml

Reads `plugins.toml`: which plugins are enabled, and each plugin's own settings table.

    [plugins]
    enabled = ["health", "auth", "tasks"]
    [plugins.tasks]
    max_page_size = 500
"""

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.errors import ConfigError

DEFAULT_ENABLED = ("health", "auth", "tasks")


@dataclass(frozen=True)
class PluginsFile:
    enabled: tuple[str, ...] = DEFAULT_ENABLED
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> "PluginsFile":
        """Parse `path`; a missing file means the defaults (every built-in enabled)."""
        if not path.exists():
            return cls()
        try:
            document = tomllib.loads(path.read_text())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})") from None
        return cls.parse(document, source=str(path))

    @classmethod
    def parse(cls, document: dict[str, Any], source: str = "plugins.toml") -> "PluginsFile":
        section = document.get("plugins", {})
        if not isinstance(section, dict):
            raise ConfigError(f"{source}: [plugins] must be a table")
        enabled = section.get("enabled", list(DEFAULT_ENABLED))
        if not isinstance(enabled, list) or not all(isinstance(n, str) for n in enabled):
            raise ConfigError(
                f'{source}: [plugins] enabled must be a list of names, like ["health"]'
            )
        duplicates = sorted({name for name in enabled if enabled.count(name) > 1})
        if duplicates:
            raise ConfigError(
                f"{source}: {', '.join(duplicates)} listed twice in [plugins] enabled"
            )
        tables = {}
        for name, value in section.items():
            if name == "enabled":
                continue
            if not isinstance(value, dict):
                raise ConfigError(f"{source}: [plugins] {name} must be a table [plugins.{name}]")
            tables[name] = value
        return cls(enabled=tuple(enabled), tables=tables)
