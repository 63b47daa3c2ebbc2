"""Task: T-005, T-253
Spec: specs/features/plugins.md §Loading, §Start-up errors
"""

import importlib.metadata
import sys
from importlib.metadata import EntryPoint, EntryPoints

import pytest

from app.core.errors import ConfigError
from app.core.plugins.installed import BUILTINS, ENTRY_POINT_GROUP, installed_plugins
from app.core.plugins.loading import load
from app.core.plugins.plugins_file import PluginsFile
from app.core.settings import Settings
from tests.core.plugins_for_tests import Configurable, Misspelled, Probe, TokenAuth


def settings(tmp_path) -> Settings:
    return Settings(
        _env_file=None, plugins_file=tmp_path / "plugins.toml", database_url="postgresql://x/y"
    )


def test_builtins_load_in_order(tmp_path):
    context = load(settings(tmp_path), PluginsFile())
    builtins = (
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
    assert context.enabled == builtins
    registered = context.plugin_manager.list_name_plugin()
    assert tuple(name for name, plugin in registered if plugin is not None) == builtins


def test_disabled_plugins_are_blocked_and_never_imported(tmp_path, monkeypatch):
    loaded: list[str] = []
    original = importlib.metadata.EntryPoint.load

    def recording_load(entry_point):  # type: ignore[no-untyped-def]
        loaded.append(entry_point.name)
        return original(entry_point)

    monkeypatch.setattr(importlib.metadata.EntryPoint, "load", recording_load)
    context = load(settings(tmp_path), PluginsFile(enabled=("health", "auth")))
    manager = context.plugin_manager
    assert manager.is_blocked("notes") and manager.is_blocked("tasks")
    assert manager.get_plugin("notes") is None
    assert "notes" not in loaded


def test_entry_point_plugin_loads_when_enabled(tmp_path):
    context = load(
        settings(tmp_path), PluginsFile(enabled=("health", "auth", "changes", "jobs", "notes"))
    )
    assert context.plugin_manager.get_plugin("notes") is sys.modules["todo_api_notes"]


def test_unknown_plugin_names_the_installed_ones(tmp_path):
    # Whatever else this environment has installed is named too: the test must not depend on it.
    installed = sorted(installed_plugins())
    assert {*BUILTINS, "notes", "checklists"} <= set(installed)  # the examples `make` installs
    with pytest.raises(ConfigError) as raised:
        load(settings(tmp_path), PluginsFile(enabled=("health", "taks")))
    assert str(raised.value).endswith(
        "unknown plugin 'taks' in [plugins] enabled; installed plugins are " + ", ".join(installed)
    )


def test_an_extra_plugin_stands_in_for_an_installed_one_of_its_name(tmp_path, monkeypatch):
    # An installed package may well use a name a test (or an embedding app) gives an extra.
    found = importlib.metadata.entry_points

    def with_probe(**selection):  # type: ignore[no-untyped-def]
        present = found(**selection)
        taken = EntryPoint("probe", "todo_api_notes", ENTRY_POINT_GROUP)
        if "probe" in present.names or not taken.matches(**selection):
            return present
        return EntryPoints([*present, taken])

    monkeypatch.setattr(importlib.metadata, "entry_points", with_probe)
    assert "probe" in installed_plugins()
    probe = Probe()
    context = load(settings(tmp_path), PluginsFile(enabled=("health",)), extra={"probe": probe})
    assert context.plugin_manager.get_plugin("probe") is probe
    assert "probe" in context.enabled and "probe" not in context.migrations.heads


def test_requirement_not_enabled(tmp_path):
    # tasks needs auth only: the feed (changes) is optional since issue 17.
    with pytest.raises(ConfigError, match=r"plugin 'tasks' requires 'auth': add 'auth'"):
        load(settings(tmp_path), PluginsFile(enabled=("health", "tasks")))
    with pytest.raises(
        ConfigError, match=r"plugin 'webhooks' requires 'changes', 'jobs': add 'changes', 'jobs'"
    ):
        load(settings(tmp_path), PluginsFile(enabled=("health", "auth", "webhooks")))


def test_misspelled_hook_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="routerz"):
        load(settings(tmp_path), PluginsFile(enabled=("health",)), extra={"typo": Misspelled()})


def test_plugin_settings_are_validated(tmp_path):
    good = load(
        settings(tmp_path),
        PluginsFile(enabled=(), tables={"conf": {"size": 3}}),
        extra={"conf": Configurable()},
    )
    assert good.plugin_settings["conf"].size == 3
    with pytest.raises(
        ConfigError, match=r"\[plugins.conf\]: size: Input should be a valid integer"
    ):
        load(
            settings(tmp_path),
            PluginsFile(enabled=(), tables={"conf": {"size": "x"}}),
            extra={"conf": Configurable()},
        )
    with pytest.raises(
        ConfigError, match=r"\[plugins.conf\]: colour: Extra inputs are not permitted"
    ):
        load(
            settings(tmp_path),
            PluginsFile(enabled=(), tables={"conf": {"colour": 1}}),
            extra={"conf": Configurable()},
        )


def test_settings_for_a_plugin_without_a_model(tmp_path):
    with pytest.raises(ConfigError, match="plugin 'auth2' takes no settings"):
        load(
            settings(tmp_path),
            PluginsFile(enabled=(), tables={"auth2": {"x": 1}}),
            extra={"auth2": TokenAuth()},
        )


def test_settings_of_a_disabled_plugin_are_kept_quietly(tmp_path):
    context = load(
        settings(tmp_path), PluginsFile(enabled=("health",), tables={"tasks": {"max_page_size": 9}})
    )
    assert "tasks" not in context.plugin_settings


def test_a_table_for_no_installed_plugin_names_the_nearest(tmp_path):
    with pytest.raises(ConfigError) as raised:
        load(settings(tmp_path), PluginsFile(tables={"taks": {"max_page_size": 9}}))
    message = str(raised.value)
    assert "\n" not in message
    assert "[plugins.taks] is for no installed plugin; did you mean [plugins.tasks]?" in message
    with pytest.raises(ConfigError, match=r"\[plugins.zzz_nothing\] .*; remove it"):
        load(settings(tmp_path), PluginsFile(tables={"zzz_nothing": {}}))
    # A plugin registered as an extra has its table, and is offered as the nearest.
    with pytest.raises(ConfigError, match=r"did you mean \[plugins.conf\]"):
        load(settings(tmp_path), PluginsFile(tables={"cnf": {}}), extra={"conf": Configurable()})


def test_each_app_gets_its_own_plugin_manager(tmp_path):
    first = load(settings(tmp_path), PluginsFile())
    second = load(settings(tmp_path), PluginsFile())
    assert first.plugin_manager is not second.plugin_manager
