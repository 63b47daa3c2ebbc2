"""Task: T-004
Spec: specs/features/plugins.md §Context

What every build-time hook is given: the `Context`.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pluggy
from pydantic import BaseModel

from app.core.db.migrations import Migrations
from app.core.settings import Settings

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


@dataclass(frozen=True)
class Context:
    settings: Settings
    plugin_manager: pluggy.PluginManager
    enabled: tuple[str, ...]
    migrations: Migrations
    plugin_settings: dict[str, BaseModel] = field(default_factory=dict)
    # Objects a plugin shares between its own hooks for this app (keyed by plugin name):
    # plugins are modules, so per-app state cannot live in module globals.
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def hook(self) -> pluggy.HookRelay:
        return self.plugin_manager.hook

    def collect(self, hook_name: str) -> list[Any]:
        """Call a build-time hook on every plugin and concatenate the answers, in registration
        order (the built-ins as listed in plugins.toml, then packages): pluggy itself calls the
        last registered first. A plugin may answer with one value or a list; None is skipped."""
        answers: list[Any] = []
        for answer in reversed(getattr(self.hook, hook_name)(context=self)):
            if isinstance(answer, list | tuple):
                answers.extend(answer)
            elif answer is not None:
                answers.append(answer)
        return answers

    def settings_for(self, name: str, model: type[M]) -> M:
        """The validated `[plugins.<name>]` table of plugin `name`, as an instance of `model`."""
        value = self.plugin_settings[name]
        if not isinstance(value, model):
            raise TypeError(f"plugin {name!r} settings are {type(value).__name__}, not {model}")
        return value

    def shared(self, name: str, make: Callable[[], T]) -> T:
        """What plugin `name` shares between its hooks for this app: made by `make()` when
        first asked for, the same object after."""
        if name not in self.state:
            self.state[name] = make()
        value: T = self.state[name]
        return value
