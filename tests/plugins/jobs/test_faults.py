"""Task: T-168
Spec: specs/features/jobs.md §Guarantees

Faults: a worker process killed in the middle of a job (the job runs again elsewhere once the
lease expires), and PostgreSQL stopped and started under a running worker (the deferred job is
kept and runs once).
"""

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from app.cli.commands import migrate_database
from app.core import Database
from app.core.plugins.loading import load
from app.core.plugins.plugins_file import PluginsFile
from app.testing import eventually
from app.testing.database import settings_for
from battery.postgres import Postgres, fresh_postgres
from tests.plugins.jobs import sample
from tests.plugins.jobs.conftest import ENABLED, open_database, runs
from tests.plugins.jobs.sample import HANG, ONCE

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
async def workers(
    runs_table: str, tmp_path: Path
) -> AsyncIterator[list[asyncio.subprocess.Process]]:
    """Two `todo-api worker` processes (with the sample plugin) on the test's database."""
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.plugins.jobs.worker_process",
            runs_table,
            str(tmp_path / f"worker{n}"),
            cwd=ROOT,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=(tmp_path / f"worker{n}.log").open("wb"),
        )
        for n in range(2)
    ]
    yield processes
    for process in processes:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:  # still running a hung job: the test failed already
            process.kill()
            await process.wait()


async def test_a_job_whose_worker_is_killed_mid_run_runs_again(workers, db: Database):
    job_id = await HANG.defer(db)

    async def started() -> bool:
        return any(row["note"] == "started" for row in await runs(db, HANG.name))

    await eventually(started)
    [first] = await runs(db, HANG.name)
    killed = next(p for p in workers if p.pid == first["pid"])
    killed.send_signal(signal.SIGKILL)  # no clean-up, no goodbye to the database
    await killed.wait()

    async def done() -> bool:
        return any(row["note"] == "done" for row in await runs(db, HANG.name))

    await eventually(done)
    rows = await runs(db, HANG.name)
    assert [row["note"] for row in rows] == ["started", "done"]
    assert {row["job_id"] for row in rows} == {job_id}
    assert rows[1]["pid"] != killed.pid and rows[1]["pid"] in {p.pid for p in workers}


@pytest.fixture
async def own_postgres(tmp_path: Path) -> AsyncIterator[Postgres]:
    """A server of this test's own, which it may stop and start."""
    async with fresh_postgres(tmp_path / "postgres") as postgres:
        settings = settings_for(postgres.url, tmp_path)
        await migrate_database(load(settings, PluginsFile(enabled=ENABLED)))
        connection = await asyncpg.connect(postgres.dsn)
        await connection.execute(sample.CREATE)
        await connection.close()
        yield postgres


async def test_a_job_survives_a_postgres_restart(own_postgres: Postgres, start_instance):
    await start_instance(url=own_postgres.url)
    db = await open_database(own_postgres.url)
    try:
        due = datetime.now(UTC) + timedelta(seconds=3)
        job_id = await ONCE.defer(db, at=due)
        await own_postgres.stop()  # the job is only on disk now
        await asyncio.sleep(1)
        await own_postgres.start()

        async def ran() -> bool:
            return bool(await runs(db, ONCE.name))

        await eventually(ran, seconds=30)
        await asyncio.sleep(1)
        rows = await runs(db, ONCE.name)
        assert [row["job_id"] for row in rows] == [job_id]
        assert rows[0]["pid"] == os.getpid()
    finally:
        await db.close()
