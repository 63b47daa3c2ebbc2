"""Task: T-207
Spec: specs/features/jobs.md §Held jobs

A job that fails every try is held, not dropped, while the jobs after it run; readiness counts
it and stays ready; `todo-api held-jobs` lists it, queues it once more, and drops it.
"""

import asyncio
from pathlib import Path

from sqlalchemy import text

from app.core import Database
from app.testing import eventually
from tests.core.command_line import operate
from tests.plugins.jobs.conftest import ENABLED, runs
from tests.plugins.jobs.sample import FLAKY, ONCE

STATUS = text("SELECT status::text FROM pgqueuer WHERE id = :id")


def held_jobs(database_url: str, folder: Path, *args: str) -> str:
    return operate(database_url, folder, ENABLED, "held-jobs", *args)


async def test_a_job_failing_every_try_is_held_and_the_command_handles_it(
    start_instance, db: Database, database_url: str, tmp_path: Path
):
    client = await start_instance()
    poison = await FLAKY.defer(db, {"failures": 99})
    after = await ONCE.defer(db)

    async def held() -> bool:
        return await db.fetchval(STATUS, id=poison) == "failed"

    await eventually(held)
    assert [row["job_id"] for row in await runs(db, ONCE.name)] == [after]
    assert len(await runs(db, FLAKY.name)) == FLAKY.retries + 1
    ready = await client.get("/api/v1/health/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["counts"]["held_jobs"] == 1

    listed = await asyncio.to_thread(held_jobs, database_url, tmp_path, "list")
    assert listed.startswith(f"{poison}  sample.flaky  {FLAKY.retries} tries  RuntimeError: ")
    assert "failing on purpose" in listed

    # Once more: one try, and held again.
    await asyncio.to_thread(held_jobs, database_url, tmp_path, "retry", str(poison))

    async def tried_again() -> bool:
        return len(await runs(db, FLAKY.name)) == FLAKY.retries + 2 and await held()

    await eventually(tried_again)
    await asyncio.sleep(1)
    assert len(await runs(db, FLAKY.name)) == FLAKY.retries + 2

    dropped = await asyncio.to_thread(held_jobs, database_url, tmp_path, "drop", str(poison))
    assert dropped.strip() == f"{poison}: dropped"
    assert await db.fetchval(STATUS, id=poison) is None
    listed = await asyncio.to_thread(held_jobs, database_url, tmp_path, "list")
    assert listed.strip() == "no held jobs"
    assert (await client.get("/api/v1/health/ready")).json()["counts"]["held_jobs"] == 0
