"""Task: T-015, T-063, T-064, T-101, T-115
Spec: specs/features/plugins.md §Command line, §Start-up errors
"""

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli.commands import cli
from app.core.plugins.context import Context
from app.core.plugins.loading import load
from app.core.settings import Settings, environment_name
from app.plugins.auth.settings import AuthSettings
from tests.core.plugins_for_tests import Greeter

TODO_API = str(Path(sys.executable).with_name("todo-api"))


@pytest.fixture
def env(tmp_path, monkeypatch):
    (tmp_path / "plugins.toml").write_text(
        '[plugins]\nenabled = ["health", "auth", "changes", "jobs", "tasks"]\n'
    )
    monkeypatch.setenv("PLUGINS_FILE", str(tmp_path / "plugins.toml"))
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@localhost:1/x")
    monkeypatch.setenv("JWT_SECRET_KEY", "a-test-secret-that-is-long-enough-for-hs256")
    return tmp_path


def test_plugins_lists_builtins_and_packages(env):
    result = CliRunner().invoke(cli, ["plugins"])
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split() for line in result.output.splitlines()[1:]}
    for name in ("health", "auth", "changes", "jobs", "tasks"):
        assert rows[name][2] == "built-in" and rows[name][3] == "yes"
    assert rows["notes"][2] == "todo-api-notes" and rows["notes"][3] == "no"
    assert rows["tasks"][5] == "tasks_0007"
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
            '[plugins]\nenabled = ["health", "auth", "changes", "jobs", "tasks"]\n[plugins.tasks]\nmax_page_size = "lots"\n',
            "max_page_size",
        ),
        (
            '[plugins]\nenabled = ["health", "changes", "jobs", "notes"]\n',
            "no authentication plugin is enabled",
        ),
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


def test_migrate_says_what_it_applied(env, empty_database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    first = CliRunner().invoke(cli, ["migrate"])
    assert first.exit_code == 0, first.output
    assert first.output.splitlines() == [
        "migrated auth: base -> auth_0005",
        "migrated changes: base -> changes_0004",
        "migrated jobs: base -> jobs_0001",
        "migrated tasks: base -> tasks_0007",
    ]
    again = CliRunner().invoke(cli, ["migrate"])
    assert again.output.splitlines() == ["migrations: already at head"]


def test_version_comes_from_the_package():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.output == f"todo-api, version {importlib.metadata.version('todo-api')}\n"


def test_config_shows_every_setting_with_secrets_masked(env, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://alex:S3cret-pw@db.example/app?sslmode=require")
    monkeypatch.setenv("BETTER_AUTH_SECRET", "another-secret")
    result = CliRunner().invoke(cli, ["config"])
    assert result.exit_code == 0, result.output
    shown = dict(line.split(" = ", 1) for line in result.output.splitlines() if " = " in line)
    # The kernel's settings, then those of the enabled plugins read from the environment.
    assert set(shown) == {
        environment_name(model, name)
        for model in (Settings, AuthSettings)
        for name in model.model_fields
    }
    assert shown["DATABASE_URL"] == "postgres://alex:***@db.example/app?sslmode=require"
    assert shown["JWT_SECRET_KEY"] == shown["BETTER_AUTH_SECRET"] == "********"
    assert shown["DATABASE_POOL_SIZE"] == "10  (default)"
    assert shown["BETTER_AUTH_URL"] == "unset"
    assert shown["FORWARDED_ALLOW_IPS"] == "unset  (default)"
    for secret in ("S3cret-pw", "another-secret", os.environ["JWT_SECRET_KEY"]):
        assert secret not in result.output
    assert f"plugins file: {env / 'plugins.toml'}\n" in result.output
    assert "enabled plugins: health, auth, changes, jobs, tasks\n" in result.output


def test_plugins_add_commands(env, monkeypatch):
    def with_greeter(settings: Settings) -> Context:
        return load(settings, extra={"greeter": Greeter()})

    monkeypatch.setattr("app.cli.commands.load", with_greeter)
    assert CliRunner().invoke(cli, ["hello"]).output == "hello from a plugin\n"
    assert "hello" in CliRunner().invoke(cli, ["--help"]).output


def test_revision_needs_an_installed_plugin(env):
    result = subprocess.run(
        [TODO_API, "revision", "nope", "-m", "x"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: unknown plugin 'nope'")


def test_revision_of_a_checkout_that_is_not_installed(env, tmp_path):
    package = tmp_path / "checkout" / "todo_api_scratch"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (tmp_path / "checkout" / "pyproject.toml").write_text(
        '[project.entry-points."todo_api.plugins"]\nscratch = "todo_api_scratch"\n'
    )
    args = ["revision", "scratch", "-m", "create things", "--path", str(tmp_path / "checkout")]
    result = subprocess.run([TODO_API, *args], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    written = package / "migrations" / "versions" / "scratch_0001_create_things.py"
    assert result.stdout.splitlines()[-1] == f"created {written}"
    assert "branch_labels: str | Sequence[str] | None = ('scratch',)" in written.read_text()
