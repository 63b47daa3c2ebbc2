"""Task: T-009, T-064, T-101, T-115, T-256
Spec: specs/features/plugins.md §Migrations
"""

import asyncio
import logging

import asyncpg
import pytest
from alembic.migration import MigrationContext
from sqlalchemy import make_url

from app.cli.checkouts import checkout
from app.cli.commands import migrate_database
from app.cli.connectivity import create_engine
from app.cli.revisions import new_revision
from app.cli.upgrade import Step, upgrade
from app.core import owner_column
from app.core.db.migrations import Migrations
from app.core.errors import ConfigError
from app.core.plugins.installed import Installed, installed_plugins
from app.core.plugins.loading import load
from app.core.plugins.plugins_file import PluginsFile
from app.testing import settings_for

ADA = {"Authorization": "Bearer good-ada"}


async def applied(connection) -> list[str]:
    """The revisions `alembic_version` holds."""
    return await connection.run_sync(
        lambda sync: MigrationContext.configure(sync).get_current_heads()
    )


async def query(url: str, sql: str, *args):  # type: ignore[no-untyped-def]
    connection = await asyncpg.connect(
        make_url(url).set(drivername="postgresql").render_as_string(False)
    )
    try:
        return await connection.fetch(sql, *args)
    finally:
        await connection.close()


async def migrate(url: str, tmp_path, *enabled: str) -> list[Step]:
    return await migrate_database(load(settings_for(url, tmp_path), PluginsFile(enabled=enabled)))


async def test_upgrade_says_which_branches_moved(empty_database_url, tmp_path):
    assert await migrate(empty_database_url, tmp_path, "health", "auth") == [
        Step("auth", None, "auth_0005")
    ]
    # tasks depends on auth_0001 (already applied): auth stays put.
    assert await migrate(
        empty_database_url, tmp_path, "health", "auth", "changes", "jobs", "tasks", "notes"
    ) == [
        Step("changes", None, "changes_0004"),
        Step("jobs", None, "jobs_0001"),
        Step("tasks", None, "tasks_0007"),
        Step("notes", None, "notes_0001"),
    ]
    assert (
        await migrate(
            empty_database_url, tmp_path, "health", "auth", "changes", "jobs", "tasks", "notes"
        )
        == []
    )


async def test_alembic_speaks_only_when_something_migrates(empty_database_url, tmp_path, caplog):
    with caplog.at_level(logging.INFO):
        await migrate(empty_database_url, tmp_path, "health", "auth")
    assert "Running upgrade  -> auth_0001" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO):
        assert await migrate(empty_database_url, tmp_path, "health", "auth", "changes", "jobs") == [
            Step("changes", None, "changes_0004"),
            Step("jobs", None, "jobs_0001"),
        ]
    alembic = [r.getMessage() for r in caplog.records if r.name.startswith("alembic")]
    assert alembic and not any("auth_0001" in message for message in alembic)
    caplog.clear()
    with caplog.at_level(logging.INFO):
        assert (
            await migrate(empty_database_url, tmp_path, "health", "auth", "changes", "jobs") == []
        )
    assert [r for r in caplog.records if r.name.startswith("alembic")] == []
    assert logging.getLogger("alembic").level == logging.NOTSET  # left as it was


async def test_each_plugin_is_a_branch_named_after_it(empty_database_url, tmp_path):
    await migrate(
        empty_database_url, tmp_path, "health", "auth", "changes", "jobs", "tasks", "notes"
    )
    migrations = Migrations(
        installed_plugins().values(), ("health", "auth", "changes", "jobs", "tasks", "notes")
    )
    # health has no tables, so no branch; the others' branch labels are their names.
    assert set(migrations.heads) == {"auth", "changes", "jobs", "tasks", "notes"}
    rows = await query(empty_database_url, "SELECT version_num FROM alembic_version")
    assert {migrations.heads["tasks"], migrations.heads["notes"]} <= {
        row["version_num"] for row in rows
    }


async def test_disable_and_reenable_keeps_the_data(empty_database_url, tmp_path, make_client):
    from tests.core.plugins_for_tests import TokenAuth

    await migrate(empty_database_url, tmp_path, "health", "changes", "jobs", "notes")
    client = await make_client(
        enabled=("health", "changes", "jobs", "notes"),
        extra={"testauth": TokenAuth()},
        url=empty_database_url,
    )
    assert (
        await client.post("/api/v1/notes", json={"body": "keep me"}, headers=ADA)
    ).status_code == 201

    # Disabled: migrate still works, the route is gone, the table and row remain.
    await migrate(empty_database_url, tmp_path, "health", "auth")
    disabled = await make_client(enabled=("health", "auth"), url=empty_database_url)
    assert (await disabled.get("/api/v1/notes", headers=ADA)).status_code == 404
    assert [r["body"] for r in await query(empty_database_url, "SELECT body FROM notes")] == [
        "keep me"
    ]
    assert (await disabled.get("/api/v1/health/ready")).status_code == 200

    # Enabled again: it picks up where it was.
    await migrate(empty_database_url, tmp_path, "health", "auth", "changes", "jobs", "notes")
    again = await make_client(
        enabled=("health", "changes", "jobs", "notes"),
        extra={"testauth": TokenAuth()},
        url=empty_database_url,
    )
    assert [n["body"] for n in (await again.get("/api/v1/notes", headers=ADA)).json()] == [
        "keep me"
    ]


async def test_instances_migrating_together_take_turns(empty_database_url, tmp_path):
    context = load(
        settings_for(empty_database_url, tmp_path),
        PluginsFile(enabled=("health", "auth", "changes", "jobs", "tasks")),
    )
    engines = [create_engine(context.settings, empty_database_url) for _ in range(3)]
    try:
        await asyncio.gather(*(upgrade(context.migrations, engine) for engine in engines))
        async with engines[0].connect() as connection:
            assert (
                context.migrations.behind(context.migrations.applied(await applied(connection)))
                == []
            )
    finally:
        for engine in engines:
            await engine.dispose()
    tables = await query(
        empty_database_url, "SELECT count(*) AS n FROM pg_tables WHERE tablename = 'tasks'"
    )
    assert tables[0]["n"] == 1


async def test_behind_names_the_plugins_not_at_head(empty_database_url, tmp_path):
    context = load(
        settings_for(empty_database_url, tmp_path),
        PluginsFile(enabled=("health", "auth", "changes", "jobs", "tasks")),
    )
    engine = create_engine(context.settings, empty_database_url)
    try:
        async with engine.connect() as connection:
            assert context.migrations.behind(
                context.migrations.applied(await applied(connection))
            ) == ["auth", "changes", "jobs", "tasks"]
    finally:
        await engine.dispose()


def test_new_revisions_start_and_extend_a_plugins_branch(tmp_path, monkeypatch):
    package = tmp_path / "scratch_plugin"
    package.mkdir()
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    installed = {"scratch": Installed("scratch", "scratch_plugin", "test", "0")}

    first = new_revision(installed, "scratch", "create things")
    assert first == package / "migrations" / "versions" / "scratch_0001_create_things.py"
    text = first.read_text()
    assert "Task:" not in text and "Spec:" not in text  # this project's header is its own
    assert "revision: str = 'scratch_0001'" in text
    assert "down_revision: str | None = None" in text and "('scratch',)" in text

    second = new_revision(installed, "scratch", "add a column")
    assert second.name == "scratch_0002_add_a_column.py"
    assert "down_revision: str | None = 'scratch_0001'" in second.read_text()
    assert Migrations(installed.values(), ["scratch"]).heads == {"scratch": "scratch_0002"}


def test_this_projects_plugins_keep_their_header(tmp_path, monkeypatch):
    (tmp_path / "scratch_plugin").mkdir()
    (tmp_path / "scratch_plugin" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    installed = {"scratch": Installed("scratch", "scratch_plugin", "built-in", "0")}
    assert "\nTask: T-NNN\nSpec: " in new_revision(installed, "scratch", "x").read_text()


def test_a_checkout_is_found_through_its_entry_point(tmp_path):
    (tmp_path / "src" / "todo_api_scratch").mkdir(parents=True)
    (tmp_path / "src" / "todo_api_scratch" / "__init__.py").write_text("")
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "todo-api-scratch"\n'
        '[project.entry-points."todo_api.plugins"]\nscratch = "todo_api_scratch"\n'
    )
    found = checkout("scratch", tmp_path)
    assert found.package_dir == tmp_path.resolve() / "src" / "todo_api_scratch"
    assert checkout("scratch", found.package_dir) == found
    with pytest.raises(ConfigError, match="declares no entry point 'other'"):
        checkout("other", tmp_path)


def test_an_installed_copy_gets_no_revision():
    # pluggy stands in for a plugin installed from a wheel: its folder is in site-packages.
    installed = {"copy": Installed("copy", "pluggy", "pluggy", "1")}
    with pytest.raises(ConfigError, match=r"installed copy .* `pip install -e <checkout>`"):
        new_revision(installed, "copy", "lost")


def test_the_owner_column_references_users_under_the_name_the_kernel_recognises():
    column = owner_column("gizmos")
    (key,) = column.foreign_keys
    assert column.name == "user_id" and not column.nullable
    assert key.target_fullname == "users.id" and key.ondelete == "CASCADE"
    assert key.name == "gizmos_user_id_fkey"  # a write for a deleted user: 401 (problems.py)
