"""Task: T-003, T-061
Spec: specs/features/plugins.md §plugins.toml

Reads `plugins.toml`: which plugins are enabled, and each plugin's own settings table.
"""

import logging
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from app.core.errors import ConfigError
from app.core.plugins.installed import BUILTINS

# Every built-in, in the order they load (`app.core.plugins.installed`).
DEFAULT_ENABLED = tuple(BUILTINS)
LAYOUT = "it holds one [plugins] table: enabled = [...] and a [plugins.<name>] table per plugin"

logger = logging.getLogger("todo_api")


@dataclass(frozen=True)
class PluginsFile:
    enabled: tuple[str, ...] = DEFAULT_ENABLED
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path, required: bool = False) -> "PluginsFile":
        """Parse `path`. A missing file means the defaults (every built-in enabled), unless it is
        `required`: a file the operator named with `PLUGINS_FILE` must be there."""
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            if required:
                raise ConfigError(
                    f"PLUGINS_FILE={path}: no such file; create it, or unset PLUGINS_FILE "
                    "to enable every built-in plugin"
                ) from None
            _say_defaults(path)
            return cls()
        except IsADirectoryError:
            raise ConfigError(f"{path} is a directory; the plugins file must be a file") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})") from None
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read it ({exc.strerror or exc})") from None
        return cls.parse(document, source=path)

    @classmethod
    def parse(cls, document: dict[str, Any], source: Path) -> "PluginsFile":
        for key, value in document.items():
            if key == "enabled":
                raise ConfigError(
                    f"{source}: enabled must be inside [plugins]; put it below [plugins]"
                )
            if key != "plugins":
                what = f"table [{key}]" if isinstance(value, dict) else f"key {key!r}"
                raise ConfigError(f"{source}: unknown {what}; {LAYOUT}")
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
                raise ConfigError(f"{source}: unknown key {name!r} in [plugins]; {LAYOUT}")
            tables[name] = value
        return cls(enabled=tuple(enabled), tables=tables)


@cache  # `serve` reads the file, then the app it starts reads it again: say it once per process
def _say_defaults(path: Path) -> None:
    logger.info(
        "no plugins file at %s: every built-in plugin enabled (%s)",
        path,
        ", ".join(DEFAULT_ENABLED),
    )
