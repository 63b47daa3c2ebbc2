"""Task: T-015
Spec: specs/features/plugins.md §Command line, §Start-up errors
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.core.cli import cli

TODO_API = str(Path(sys.executable).with_name("todo-api"))


@pytest.fixture
def env(tmp_path, monkeypatch):
    (tmp_path / "plugins.toml").write_text('[plugins]\nenabled = ["health", "auth", "tasks"]\n')
    monkeypatch.setenv("PLUGINS_FILE", str(tmp_path / "plugins.toml"))
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@localhost:1/x")
    monkeypatch.setenv("JWT_SECRET_KEY", "a-test-secret-that-is-long-enough-for-hs256")
    return tmp_path


def test_plugins_lists_builtins_and_packages(env):
    result = CliRunner().invoke(cli, ["plugins"])
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split() for line in result.output.splitlines()[1:]}
    for name in ("health", "auth", "tasks"):
        assert rows[name][2] == "built-in" and rows[name][3] == "yes"
    assert rows["notes"][2] == "todo-api-notes" and rows["notes"][3] == "no"
    assert rows["tasks"][5] == "tasks_0001"
    assert rows["health"][4] == "2"


def test_openapi_prints_the_schema(env):
    result = CliRunner().invoke(cli, ["openapi"])
    assert result.exit_code == 0
    assert "/api/v1/health" in json.loads(result.output)["paths"]


def test_serve_options():
    result = CliRunner().invoke(cli, ["serve", "--help"])
    for option in ("--host", "--port", "--workers", "--no-migrate"):
        assert option in result.output


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[plugins]\nenabled = ["health", "taks"]\n', "unknown plugin 'taks'"),
        ('[plugins]\nenabled = ["health", "tasks"]\n', "requires 'auth'"),
        (
            '[plugins]\nenabled = ["health", "auth", "tasks"]\n[plugins.tasks]\nmax_page_size = "lots"\n',
            "max_page_size",
        ),
        ('[plugins]\nenabled = ["health", "notes"]\n', "no authentication plugin is enabled"),
        ("[plugins\n", "not valid TOML"),
    ],
)
def test_bad_configuration_is_one_line_not_a_traceback(env, toml, message):
    (env / "plugins.toml").write_text(toml)
    result = subprocess.run(
        [TODO_API, "plugins"], capture_output=True, text=True, env=os.environ.copy()
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert "Traceback" not in result.stderr


def test_migrate_runs_the_enabled_branches(env, empty_database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    result = CliRunner().invoke(cli, ["migrate"])
    assert result.exit_code == 0, result.output
    assert "migrated: auth, tasks" in result.output


def test_revision_needs_an_installed_plugin(env):
    result = subprocess.run(
        [TODO_API, "revision", "nope", "-m", "x"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: unknown plugin 'nope'")
