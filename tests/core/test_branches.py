"""Task: T-117, T-118, T-119, T-120
Spec: specs/features/plugins.md §Migrations, §Command line

A plugin that was migrated and then uninstalled leaves its branch in the database. Nothing stops
on it: `migrate`, `serve`, `plugins` and readiness work, say once which branch is orphaned, and
leave its tables alone; `drop-orphan` drops them on purpose. Its revision `depends_on` tasks, so
`alembic_version` records it in place of tasks' own head: the kernel's records stand in.
"""

import logging
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from app.cli.checkouts import Checkout
from app.cli.connectivity import create_engine
from app.cli.upgrade import Step, upgrade
from app.core.db.migrations import Migrations
from app.core.errors import ConfigError
from app.core.plugins.installed import installed_plugins
from app.testing import settings_for
from app.testing.database import libpq_url
from harness.server import serving

TODO_API = str(Path(sys.executable).with_name("todo-api"))
BUILT_INS = ("health", "auth", "changes", "jobs", "tasks")
# An imaginary plugin, named as no user would name theirs: the tests must not meet a real one.
HABITS = """
import sqlalchemy as sa
from alembic import op

revision = "zz_test_habits_0001"
down_revision = None
branch_labels = ("zz_test_habits",)
depends_on = "tasks_0001"


def upgrade() -> None:
    op.create_table(
        "zz_test_habits",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("task_id", sa.Text(), sa.ForeignKey("tasks.id", ondelete="CASCADE")),
    )
    op.create_table("zz_test_habit_rules", sa.Column("id", sa.Text(), primary_key=True))
"""


@pytest.fixture
def habits(tmp_path: Path) -> Checkout:
    """A plugin's package with one migration, installed for as long as a test passes it."""
    versions = tmp_path / "todo_api_zz_test_habits" / "migrations" / "versions"
    versions.mkdir(parents=True)
    (versions / "zz_test_habits_0001_create_habits.py").write_text(HABITS)
    return Checkout("zz_test_habits", versions.parents[1])


async def migrate(
    url: str, folder: Path, *enabled: str, extra: Checkout | None = None
) -> list[Step]:
    installed = [*installed_plugins().values(), *([extra] if extra else [])]
    engine = create_engine(settings_for(url, folder), url)
    try:
        return await upgrade(Migrations(installed, enabled), engine)
    finally:
        await engine.dispose()


async def query(url: str, sql: str) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(libpq_url(url))
    try:
        return await connection.fetch(sql)
    finally:
        await connection.close()


async def rows(url: str) -> set[str]:
    return {row[0] for row in await query(url, "SELECT version_num FROM alembic_version")}


async def tables(url: str) -> set[str]:
    found = await query(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {row[0] for row in found}


@pytest.fixture
async def orphaned(empty_database_url: str, tmp_path: Path, habits: Checkout) -> str:
    """A database where zz_test_habits was migrated, then uninstalled."""
    steps = await migrate(empty_database_url, tmp_path, *BUILT_INS, "zz_test_habits", extra=habits)
    assert [step.plugin for step in steps] == ["auth", "changes", "jobs", "tasks", "zz_test_habits"]
    # Alembic keeps only the heads no other revision stands on: auth's latest (tasks depends on
    # auth_0001 only), tasks' latest and the one that depends on tasks' first.
    assert await rows(empty_database_url) == {
        "auth_0005",
        "changes_0004",
        "jobs_0001",
        "tasks_0007",
        "zz_test_habits_0001",
    }
    return empty_database_url


async def test_each_branch_and_its_tables_are_recorded(orphaned: str):
    recorded = await query(orphaned, "SELECT branch, revision, tables FROM todo_api_branches")
    assert {row["branch"]: (row["revision"], row["tables"]) for row in recorded} == {
        "auth": (
            "auth_0005",
            ["account_tokens", "login_failures", "personal_tokens", "refresh_tokens", "users"],
        ),
        "changes": (
            "changes_0004",
            ["change_consumers", "change_set_aside", "changes", "changes_horizon", "stream_leases"],
        ),
        "jobs": (
            "jobs_0001",
            ["pgqueuer", "pgqueuer_log", "pgqueuer_schedules", "pgqueuer_statistics"],
        ),
        "tasks": (
            "tasks_0007",
            ["list_invitations", "list_members", "lists", "task_idempotency_keys", "tasks"],
        ),
        "zz_test_habits": ("zz_test_habits_0001", ["zz_test_habit_rules", "zz_test_habits"]),
    }


async def test_migrate_sets_an_orphan_aside_and_says_so_once(
    orphaned: str, tmp_path: Path, habits: Checkout, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.WARNING, "todo_api")
    # Without the plugin installed: the other branches migrate (notes is new), tasks stays put.
    assert await migrate(orphaned, tmp_path, *BUILT_INS, "notes") == [
        Step("notes", None, "notes_0001")
    ]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "branch 'zz_test_habits' (zz_test_habits_0001)" in warnings[0]
    assert "(zz_test_habit_rules, zz_test_habits) are left alone" in warnings[0]
    assert await rows(orphaned) == {
        "auth_0005",
        "changes_0004",
        "jobs_0001",
        "tasks_0007",
        "zz_test_habits_0001",
        "notes_0001",
    }
    assert {"zz_test_habits", "zz_test_habit_rules", "tasks", "notes"} <= await tables(orphaned)
    assert await migrate(orphaned, tmp_path, *BUILT_INS, "notes") == []

    # Installed again, it is where it was.
    back = await migrate(orphaned, tmp_path, *BUILT_INS, "notes", "zz_test_habits", extra=habits)
    assert back == []


async def test_readiness_is_not_spoiled_by_an_orphan(orphaned: str, make_client):
    client = await make_client(enabled=BUILT_INS, url=orphaned)
    response = await client.get("/api/v1/health/ready")
    assert response.status_code == 200, response.text


async def test_a_database_ahead_of_the_installed_plugin_is_one_line(orphaned: str, tmp_path: Path):
    await query(orphaned, "INSERT INTO alembic_version VALUES ('tasks_0099')")
    with pytest.raises(ConfigError, match="at tasks_0099 of plugin 'tasks', which the installed"):
        await migrate(orphaned, tmp_path, *BUILT_INS)


def todo_api(*args: str, url: str, folder: Path) -> subprocess.CompletedProcess[str]:
    (folder / "plugins.toml").write_text(
        '[plugins]\nenabled = ["health", "auth", "changes", "jobs", "tasks"]\n'
    )
    env = os.environ | {
        "DATABASE_URL": url,
        "PLUGINS_FILE": str(folder / "plugins.toml"),
        "JWT_SECRET_KEY": "a-test-secret-that-is-long-enough-for-hs256",
    }
    return subprocess.run(
        [TODO_API, *args], capture_output=True, text=True, env=env, cwd=folder, timeout=120
    )


async def test_the_command_line_keeps_working_and_drops_on_purpose(orphaned: str, tmp_path: Path):
    migrated = todo_api("migrate", url=orphaned, folder=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout == "migrations: already at head\n"
    assert migrated.stderr.count("branch 'zz_test_habits' (zz_test_habits_0001)") == 1

    listed = todo_api("plugins", url=orphaned, folder=tmp_path)
    assert listed.returncode == 0, listed.stderr
    states = {line.split()[0]: line.split()[-2:] for line in listed.stdout.splitlines()[1:]}
    assert states["tasks"] == ["tasks_0007", "ok"] and states["auth"] == ["auth_0005", "ok"]
    assert listed.stderr.count("warning: branch 'zz_test_habits' (zz_test_habits_0001)") == 1

    orphans = todo_api("plugins", "--orphans", url=orphaned, folder=tmp_path)
    assert orphans.stdout.splitlines()[1].split() == [
        "zz_test_habits",
        "zz_test_habits_0001",
        "zz_test_habit_rules,zz_test_habits",
    ]

    unsure = todo_api("drop-orphan", "zz_test_habits", url=orphaned, folder=tmp_path)
    assert unsure.returncode == 2
    assert (
        "drops branch zz_test_habits's tables (zz_test_habit_rules, zz_test_habits)"
        in unsure.stderr
    )
    assert {"zz_test_habits", "zz_test_habit_rules"} <= await tables(orphaned)
    assert todo_api("drop-orphan", "tasks", "--yes", url=orphaned, folder=tmp_path).stderr == (
        "error: 'tasks' is not an orphaned branch (orphaned: zz_test_habits)\n"
    )

    dropped = todo_api("drop-orphan", "zz_test_habits", "--yes", url=orphaned, folder=tmp_path)
    assert dropped.returncode == 0, dropped.stderr
    assert (
        dropped.stdout
        == "dropped branch zz_test_habits (zz_test_habits_0001): zz_test_habit_rules, zz_test_habits\n"
    )
    assert not {"zz_test_habits", "zz_test_habit_rules"} & await tables(orphaned)
    assert await rows(orphaned) == {
        "auth_0005",
        "changes_0004",
        "jobs_0001",
        "tasks_0007",
    }  # the orphan's stand-in is back
    assert todo_api("plugins", "--orphans", url=orphaned, folder=tmp_path).stdout.endswith(
        "no orphaned branches\n"
    )
    again = todo_api("migrate", url=orphaned, folder=tmp_path)
    assert again.stdout == "migrations: already at head\n" and "warning" not in again.stderr


async def test_serve_starts_on_a_database_with_an_orphan(orphaned: str, tmp_path: Path):
    log = tmp_path / "server.log"
    async with serving(orphaned, tmp_path / "data", log=log):
        pass  # ready: /health/ready answered 200
    assert log.read_text().count("branch 'zz_test_habits' (zz_test_habits_0001)") == 1
