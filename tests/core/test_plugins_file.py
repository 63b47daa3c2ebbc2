"""Task: T-003
Spec: specs/features/plugins.md §plugins.toml
"""

import pytest

from app.core.errors import ConfigError
from app.core.plugins_file import DEFAULT_ENABLED, PluginsFile
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
        ('[plugins]\nenabled = ["health"]\ntasks = 3\n', r"must be a table \[plugins.tasks\]"),
        ("plugins = 1\n", r"\[plugins\] must be a table"),
    ],
)
def test_bad_files_say_what_is_wrong(tmp_path, text, message):
    path = tmp_path / "plugins.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        PluginsFile.read(path)


def test_plugins_file_path_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PLUGINS_FILE", str(tmp_path / "elsewhere.toml"))
    assert Settings(_env_file=None).plugins_file == tmp_path / "elsewhere.toml"


def test_allowed_origins_are_comma_separated(monkeypatch):
    monkeypatch.setenv("ALLOWED_ORIGINS", "https://a.example, https://b.example")
    assert Settings(_env_file=None).allowed_origins == ["https://a.example", "https://b.example"]
