"""Task: T-003, T-061
Spec: specs/features/plugins.md §plugins.toml
"""

import logging
import re
from pathlib import Path

import pytest

from app.core.errors import ConfigError
from app.core.plugins.plugins_file import DEFAULT_ENABLED, PluginsFile
from app.core.settings import Settings


def test_missing_file_enables_the_builtins(tmp_path):
    assert PluginsFile.read(tmp_path / "absent.toml").enabled == DEFAULT_ENABLED


def test_enabled_and_tables(tmp_path):
    path = tmp_path / "plugins.toml"
    path.write_text('[plugins]\nenabled = ["health"]\n[plugins.tasks]\nmax_page_size = 9\n')
    read = PluginsFile.read(path)
    assert read.enabled == ("health",)
    assert read.tables == {"tasks": {"max_page_size": 9}}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[plugins\n", "not valid TOML"),
        ('[plugins]\nenabled = "health"\n', "must be a list of names"),
        ('[plugins]\nenabled = ["health", "health"]\n', "health listed twice"),
        ('[plugins]\nenabled = ["health"]\ntasks = 3\n', r"unknown key 'tasks' in \[plugins\]"),
        ("plugins = 1\n", r"\[plugins\] must be a table"),
        ('[plugin]\nenabled = ["health"]\n', r"unknown table \[plugin\]; it holds one \[plugins\]"),
        ('enabled = ["health"]\n', r"enabled must be inside \[plugins\]"),
        ('[plugins]\nenable = ["health"]\n', r"unknown key 'enable' in \[plugins\]"),
    ],
)
def test_bad_files_say_what_is_wrong(tmp_path, text, message):
    path = tmp_path / "elsewhere.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as caught:
        PluginsFile.read(path)
    assert str(caught.value).startswith(str(path))


def test_a_named_file_must_exist(tmp_path):
    with pytest.raises(ConfigError, match=r"PLUGINS_FILE=.*absent.toml: no such file"):
        PluginsFile.read(tmp_path / "absent.toml", required=True)


def test_a_missing_default_file_says_so_once(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="todo_api")
    for _ in range(2):
        PluginsFile.read(tmp_path / "plugins.toml")
    said = [r.getMessage() for r in caplog.records if "no plugins file" in r.getMessage()]
    assert said == [
        f"no plugins file at {tmp_path / 'plugins.toml'}: every built-in plugin enabled"
        f" ({', '.join(DEFAULT_ENABLED)})"
    ]


def test_an_unreadable_file_is_named(tmp_path, monkeypatch):
    path = tmp_path / "plugins.toml"
    path.write_text("[plugins]\n")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    # Root reads any file, and tests may run as root: refuse the read the way the OS would.
    monkeypatch.setattr(Path, "read_text", refuse)
    message = rf"^{re.escape(str(path))}: cannot read it \(Permission denied\)$"
    with pytest.raises(ConfigError, match=message):
        PluginsFile.read(path)


def test_plugins_file_path_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PLUGINS_FILE", str(tmp_path / "elsewhere.toml"))
    assert Settings(_env_file=None).plugins_file == tmp_path / "elsewhere.toml"


def test_allowed_origins_are_comma_separated(monkeypatch):
    monkeypatch.setenv("ALLOWED_ORIGINS", "https://a.example, https://b.example")
    assert Settings(_env_file=None).allowed_origins == ["https://a.example", "https://b.example"]
