"""Task: T-121, T-122, T-123, T-251, T-260, T-310
Spec: specs/features/plugins.md §Writing a plugin

From an empty folder to a tested plugin, as an author does it, each step a subprocess:
`todo-api new-plugin checklists --dir DIR`, `pip install -e DIR`, enable it in a plugins file,
`todo-api migrate` and `todo-api plugins` show it, and `pytest DIR` passes — its tests prove the
routes need a token and keep each user's rows to them (`assert_isolated`), in their own lists
(the tasks plugin's, whose deletion takes the rows along). Then its migrations
go missing from the package, and start-up and `todo-api plugins` say so.

The steps run in a scratch environment that sees this project's installed packages (no
download) except a distribution already shipping a plugin of that name — the example
`examples/todo-api-checklists` — which would clash with the new one.
"""

import ast
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

from app.cli.scaffold import new_plugin
from app.core.db.migrations import Migrations
from app.core.errors import ConfigError
from app.core.plugins.installed import BUILTINS, ENTRY_POINT_GROUP, installed_plugins
from app.core.plugins.plugins_file import PluginsFile
from tests.core.command_line import SETTINGS

NAME = "checklists"


def hidden_files(plugin: str) -> set[str]:
    """The top-level names in site-packages of the distribution shipping plugin `plugin`."""
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP, name=plugin):
        if entry.dist is not None:
            return {Path(str(file)).parts[0] for file in entry.dist.files or ()}
    return set()


def scratch_environment(folder: Path, hide: str) -> Path:
    """A virtual environment seeing this one's packages (but `hide`'s) through a linked copy of
    its site-packages; returns its bin folder, with a `todo-api` command."""
    site = Path(sysconfig.get_paths()["purelib"])
    mirror = folder / "site-packages"
    mirror.mkdir()
    hidden = hidden_files(hide)
    for entry in site.iterdir():
        if entry.name not in hidden:
            (mirror / entry.name).symlink_to(entry)
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    own = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # addsitedir, not a plain path: the linked folder's own .pth files (editable installs) count.
    (Path(own) / "_todo_api_project.pth").write_text(
        f"import site; site.addsitedir({str(mirror)!r})\n"
    )
    (venv / "bin" / "todo-api").write_text(
        f"#!{python}\nimport sys\nfrom app.cli.commands import cli\nsys.exit(cli())\n"
    )
    (venv / "bin" / "todo-api").chmod(0o755)
    return venv / "bin"


def run(*command: str | Path, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
    )


async def test_an_empty_folder_becomes_a_tested_plugin(tmp_path: Path, empty_database_url: str):
    bin = scratch_environment(tmp_path, hide=NAME)
    plugin = tmp_path / "plugin"  # empty, as a fresh clone's `--dir` would be
    plugin.mkdir()
    (tmp_path / "plugins.toml").write_text(
        f'[plugins]\nenabled = ["health", "auth", "tasks", "{NAME}"]\n'
    )
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS and k != "TEST_DATABASE_URL"}
    env |= {
        "PATH": f"{bin}{os.pathsep}{env['PATH']}",
        "PLUGINS_FILE": str(tmp_path / "plugins.toml"),
        "DATABASE_URL": empty_database_url,
        "JWT_SECRET_KEY": "a-test-secret-that-is-long-enough-for-hs256",
        "DATA_DIR": str(tmp_path / "data"),
    }

    created = run("todo-api", "new-plugin", NAME, "--dir", plugin, env=env, cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    installed = run(
        bin / "python", "-m", "pip", "install", "-q", "-e", plugin, env=env, cwd=tmp_path
    )
    assert installed.returncode == 0, installed.stderr

    migrated = run("todo-api", "migrate", env=env, cwd=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    assert f"migrated {NAME}: base -> {NAME}_0001" in migrated.stdout.splitlines()
    listed = run("todo-api", "plugins", env=env, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    rows = {line.split()[0]: line.split() for line in listed.stdout.splitlines()[1:]}
    assert rows[NAME][1:] == [
        "0.1.0",
        f"todo-api-{NAME}",
        "yes",
        "5",
        f"{NAME}_0001",
        f"{NAME}_0001",
        "ok",
    ]
    # Its operations are named as the built-ins' are: `<tag>_<name>`.
    document = run("todo-api", "openapi", env=env, cwd=tmp_path)
    assert document.returncode == 0, document.stderr
    paths = json.loads(document.stdout)["paths"]
    assert sorted(
        operation["operationId"]
        for path, operations in paths.items()
        if path.startswith(f"/api/v1/{NAME}")
        for operation in operations.values()
    ) == sorted(f"{NAME}_{name}" for name in ("list", "create", "get", "update", "delete"))
    # And each says what it does, as the built-ins' operations do.
    assert all(
        operation.get("description")
        for path, operations in paths.items()
        if path.startswith(f"/api/v1/{NAME}")
        for operation in operations.values()
    )

    tested = run(
        bin / "python",
        "-m",
        "pytest",
        plugin,
        "-q",
        "-p",
        "no:cacheprovider",
        f"--basetemp={tmp_path / 'pytest'}",
        env=env,
        cwd=tmp_path,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "6 passed" in tested.stdout

    # Its migrations left out of the package: named at start-up and by `plugins`.
    shutil.rmtree(plugin / f"todo_api_{NAME}" / "migrations")
    served = run("todo-api", "serve", "--no-migrate", env=env, cwd=tmp_path)
    assert served.returncode == 2 and "Traceback" not in served.stderr
    assert served.stderr.startswith(
        f"error: plugin '{NAME}' declares tables ({NAME}) but ships no migrations"
    )
    flagged = run("todo-api", "plugins", env=env, cwd=tmp_path)
    rows = {line.split()[0]: line.split() for line in flagged.stdout.splitlines()[1:]}
    assert rows[NAME][-3:] == ["none", "-", "missing-migrations"]
    assert f"warning: plugin '{NAME}' declares tables" in flagged.stderr


def test_names_and_folders_are_checked(tmp_path: Path):
    for name, message in (
        ("Bad-Name", "use lower-case letters"),
        ("tasks", r"already installed \(built-in\)"),
    ):
        with pytest.raises(ConfigError, match=message):
            new_plugin(name, tmp_path / "new")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    with pytest.raises(ConfigError, match="is not an empty folder"):
        new_plugin("gizmos", tmp_path / "full")


def test_the_first_migration_starts_its_own_branch_after_auth(tmp_path: Path):
    heads = Migrations(installed_plugins().values(), BUILTINS).heads
    written = {
        path.relative_to(tmp_path / "p").as_posix(): path
        for path in new_plugin("gizmos", tmp_path / "p")
    }
    migration = written[
        "todo_api_gizmos/migrations/versions/gizmos_0001_create_gizmos.py"
    ].read_text()
    for line in (
        'revision: str = "gizmos_0001"',
        'branch_labels: str | Sequence[str] | None = ("gizmos",)',
        # auth's head (users) and tasks' (lists)
        f'depends_on: str | Sequence[str] | None = ("{heads["auth"]}", "{heads["tasks"]}")',
        'owner_column("gizmos")',  # user_id -> users.id ON DELETE CASCADE (test_migrations)
        'op.create_index("ix_gizmos_user_created_at", "gizmos", ["user_id", "created_at", "id"])',
        # In one of the owner's lists; deleting the list deletes the rows.
        '["list_id", "user_id"],\n            ["lists.id", "lists.user_id"],\n'
        '            name="gizmos_list_id_fkey",\n            ondelete="CASCADE",',
    ):
        assert line in migration
    assert "Task:" not in migration
    pyproject = written["pyproject.toml"].read_text()
    assert 'gizmos = "todo_api_gizmos"' in pyproject
    assert '"todo_api_gizmos.migrations.versions"' in pyproject
    models = written["todo_api_gizmos/models.py"].read_text()
    assert "class Gizmo(Owned, table=True)" in models
    assert "from app.plugins.tasks.api import TaskList" in models
    assert 'return ["auth", "tasks"]' in written["todo_api_gizmos/__init__.py"].read_text()


def test_the_readmes_plugins_file_keeps_every_builtin(tmp_path: Path):
    new_plugin("gizmos", tmp_path / "p")
    readme = (tmp_path / "p" / "README.md").read_text()
    toml = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    parsed = PluginsFile.parse(tomllib.loads(toml), source=tmp_path / "plugins.toml")
    assert parsed.enabled == (*BUILTINS, "gizmos")


def test_the_package_reaches_todo_api_through_its_public_apis_only(tmp_path: Path):
    # The walls (pyproject's import-linter contracts) as they stand for a plugin requiring
    # tasks: the kernel's top-level names and the tasks plugin's api, nothing deeper.
    imported = set()
    for path in new_plugin("gizmos", tmp_path / "p"):
        if path.suffix == ".py" and "tests" not in path.parts:
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and node.module:
                    imported.add(node.module)
                elif isinstance(node, ast.Import):
                    imported |= {alias.name for alias in node.names}
    assert {name for name in imported if name.split(".")[0] == "app"} == {
        "app.core",
        "app.plugins.tasks.api",
    }
