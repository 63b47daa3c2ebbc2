"""Task: T-005, T-061, T-276
Spec: specs/features/plugins.md §Loading

Turns `plugins.toml` into a loaded `PluginManager`: one per app, never a module global.
"""

import difflib
import importlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pluggy
from pydantic import BaseModel, ValidationError
from pydantic_settings import BaseSettings

from app.core.db.migrations import Migrations
from app.core.errors import ConfigError
from app.core.plugins import hookspecs
from app.core.plugins.context import Context
from app.core.plugins.installed import ENTRY_POINT_GROUP, installed_plugins
from app.core.plugins.plugins_file import PluginsFile
from app.core.settings import Settings, environment_name, explain, field_named, is_secret


def load(
    settings: Settings,
    plugins_file: PluginsFile | None = None,
    extra: Mapping[str, object] | None = None,
) -> Context:
    """Load, check and configure the enabled plugins; raise `ConfigError` naming the fix.

    `extra` registers plugin objects by name on top of plugins.toml (for embedding the app, and
    for tests); they are always enabled, in place of any installed plugin of the same name.
    """
    # A PLUGINS_FILE the operator set must exist; the default one may be absent.
    required = "plugins_file" in settings.model_fields_set
    extra = extra or {}
    plugins_file = plugins_file or PluginsFile.read(settings.plugins_file, required)
    # An extra stands in for an installed plugin of its name: which packages this environment
    # holds must not change what a test (or an embedding app) registers.
    installed = {name: found for name, found in installed_plugins().items() if name not in extra}
    unknown = [name for name in plugins_file.enabled if name not in installed]
    if unknown:
        raise ConfigError(
            f"{settings.plugins_file}: unknown plugin {', '.join(map(repr, unknown))} in [plugins] "
            f"enabled; installed plugins are {', '.join(sorted(installed))}"
        )
    _check_tables(plugins_file, (*installed, *extra), settings.plugins_file)

    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    for name in installed.keys() - set(plugins_file.enabled):
        manager.set_blocked(name)
    for name in plugins_file.enabled:
        if installed[name].source == "built-in":
            manager.register(importlib.import_module(installed[name].module), name=name)
    for name, plugin in extra.items():
        manager.register(plugin, name=name)
    manager.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    enabled = (*plugins_file.enabled, *extra)
    # Before the hooks are checked: a plugin implementing the hooks of one it requires (the
    # `jobs` hook) is told to enable that one, not that its hook is unknown.
    _check_requirements(manager, enabled, settings.plugins_file)
    for plugin in manager.get_plugins():
        specs = getattr(plugin, "hookspecs", None)
        if specs is not None:  # a plugin's own hooks, for the plugins built on it
            manager.add_hookspecs(specs)
    try:
        manager.check_pending()
    except pluggy.PluginValidationError as exc:
        raise ConfigError(f"{exc} (a misspelled hook name?)") from None
    return Context(
        settings=settings,
        plugin_manager=manager,
        enabled=enabled,
        migrations=Migrations(installed.values(), enabled),
        plugin_settings=_validate_settings(manager, plugins_file, settings),
    )


def per_plugin(hook: pluggy.HookCaller, **kwargs: object) -> Iterable[tuple[str, Any]]:
    """Call `hook` plugin by plugin, in registration order, keeping who answered what."""
    for impl in hook.get_hookimpls():
        yield impl.plugin_name, impl.function(**{name: kwargs[name] for name in impl.argnames})


def _check_requirements(
    manager: pluggy.PluginManager, enabled: tuple[str, ...], source: Path
) -> None:
    for name, needed in per_plugin(manager.hook.requires):
        missing = [required for required in needed if required not in enabled]
        if missing:
            raise ConfigError(
                f"plugin {name!r} requires {', '.join(map(repr, missing))}: add "
                f"{', '.join(map(repr, missing))} to [plugins] enabled in {source} "
                f"or disable {name!r}"
            )


def _check_tables(plugins_file: PluginsFile, known: Iterable[str], source: Path) -> None:
    """A table for no installed plugin is a misspelling, not settings to ignore; a disabled
    plugin's table is kept for when it is enabled again."""
    known = sorted(known)
    for name in plugins_file.tables:
        if name not in known:
            nearest = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean [plugins.{nearest[0]}]?" if nearest else "remove it"
            raise ConfigError(
                f"{source}: [plugins.{name}] is for no installed plugin; {hint} "
                f"(installed plugins are {', '.join(known)})"
            )


def _validate_settings(
    manager: pluggy.PluginManager, plugins_file: PluginsFile, settings: Settings
) -> dict[str, BaseModel]:
    source = settings.plugins_file
    validated: dict[str, BaseModel] = {}
    for name, model in per_plugin(manager.hook.settings_model):
        assert isinstance(model, type) and issubclass(model, BaseModel)
        table = plugins_file.tables.get(name, {})
        where = f"{source} [plugins.{name}]"
        for key in table:
            field = field_named(model, key)
            if field is not None and is_secret(model, field):
                # Never in a file that is committed, copied and printed: the value is not echoed.
                raise ConfigError(
                    f"{where}: {key} is a secret: set {environment_name(model, field)} in the "
                    "environment (or .env) instead"
                )
        try:
            if issubclass(model, BaseSettings):
                _refuse_unknown(model, table, where)
                validated[name] = model(**table, _env_file=settings.env_file)
            else:
                validated[name] = model.model_validate(table)
        except ValidationError as exc:
            raise ConfigError(_explain(exc, model, table, where)) from None
    for name, table in plugins_file.tables.items():
        if manager.has_plugin(name) and name not in validated and table:
            raise ConfigError(f"{source} [plugins.{name}]: plugin {name!r} takes no settings")
    return validated


def _refuse_unknown(model: type[BaseModel], table: Mapping[str, object], where: str) -> None:
    """A settings model from the environment ignores other variables, but a table's unknown
    key is a misspelling."""
    unknown = [key for key in table if field_named(model, key) is None]
    if unknown:
        raise ConfigError(
            "; ".join(f"{where}: {key}: Extra inputs are not permitted" for key in unknown)
        )


def _explain(
    exc: ValidationError, model: type[BaseModel], table: Mapping[str, object], where: str
) -> str:
    """One line: the table's rejected keys as the table names them, the environment's as its
    variables (`explain`, which never echoes a secret)."""
    errors = exc.errors()
    from_table = [error for error in errors if not error["loc"] or error["loc"][0] in table]
    in_table = "; ".join(
        f"{'.'.join(map(str, error['loc'])) or 'the table'}: {error['msg']}" for error in from_table
    )
    from_environment = [error for error in errors if error not in from_table]
    problems = [f"{where}: {in_table}"] if from_table else []
    if from_environment:
        problems.append(explain(from_environment, model))
    return "; ".join(problems)
