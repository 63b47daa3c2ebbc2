"""Task: T-168
Spec: specs/features/jobs.md §Testing

Fixtures for the job-queue tests: the sample plugin's table, a `Database` to defer jobs from,
and apps (instances) running workers with a short lease and poll.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text

from app.core import Database
from app.core.db.urls import engine_options
from app.core.settings import StatementCache
from app.testing.plugin import AppMaker
from tests.plugins.jobs import sample

ENABLED = ("health", "auth", "jobs")
FAST = {"jobs": {"lease_seconds": 1, "poll_seconds": 0.2}}


async def open_database(url: str) -> Database:
    return await Database.open(engine_options(url), 4, StatementCache.auto)


@pytest.fixture
async def runs_table(database_url: str) -> str:
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(sample.CREATE)
    finally:
        await connection.close()
    return database_url


@pytest.fixture
async def db(runs_table: str) -> AsyncIterator[Database]:
    database = await open_database(runs_table)
    yield database
    await database.close()


@pytest.fixture
def start_instance(make_client: AppMaker) -> Callable[..., Awaitable[Any]]:
    """An app instance running a job worker with the sample plugin: `await start_instance()`."""

    async def start(**overrides: Any) -> Any:
        tables = {"jobs": FAST["jobs"] | overrides.pop("jobs", {})}
        return await make_client(
            enabled=ENABLED, tables=tables, extra={"sample": sample}, **overrides
        )

    return start


async def runs(db: Database, task: str) -> list[asyncpg.Record]:
    return await db.fetch(
        text("SELECT job_id, attempt, pid, note, at FROM job_runs WHERE task = :task ORDER BY at"),
        task=task,
    )
