"""Task: T-168
Spec: specs/features/jobs.md §Guarantees

The queue's guarantees on a real PostgreSQL, with several app instances (workers) on one
database: each due job runs once, failures retry with backoff, a job deferred in a transaction
exists only if it commits, periodic jobs run once per due time.
"""

import asyncio
import itertools
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from app.core import Database, OwnershipError
from app.core.db.urls import listen_options
from app.core.errors import ConfigError
from app.core.settings import PoolMode
from app.plugins.jobs.api import JobKind, Periodic
from app.plugins.jobs.worker import Definitions
from app.testing import eventually
from app.testing.database import settings_for
from tests.plugins.jobs.conftest import runs
from tests.plugins.jobs.sample import FLAKY, ONCE, TICK, once


async def test_a_job_due_while_two_instances_run_runs_once(start_instance, db: Database):
    await start_instance()
    await start_instance()
    due = datetime.now(UTC) + timedelta(seconds=1)
    ids = [await ONCE.defer(db, {"n": n}, at=due) for n in range(20)]

    async def all_ran() -> bool:
        return len(await runs(db, ONCE.name)) >= len(ids)

    await eventually(all_ran)
    await asyncio.sleep(1)  # time for a second run, were there one
    ran = [row["job_id"] for row in await runs(db, ONCE.name)]
    assert sorted(ran) == sorted(ids)
    assert all(row["at"] >= due for row in await runs(db, ONCE.name))


async def test_a_failing_job_is_retried_with_backoff_then_succeeds(start_instance, db: Database):
    await start_instance()
    job_id = await FLAKY.defer(db, {"failures": 2})

    async def succeeded() -> bool:
        return len(await runs(db, FLAKY.name)) == 3

    await eventually(succeeded)
    rows = await runs(db, FLAKY.name)
    assert [row["attempt"] for row in rows] == [0, 1, 2]
    assert {row["job_id"] for row in rows} == {job_id}
    # backoff 0.3 s, doubled: at least 0.3 s, then 0.6 s between attempts
    gaps = [
        (later["at"] - earlier["at"]).total_seconds() for earlier, later in itertools.pairwise(rows)
    ]
    assert gaps[0] >= 0.3 and gaps[1] >= 0.6
    await asyncio.sleep(1)
    assert len(await runs(db, FLAKY.name)) == 3


async def test_a_job_stops_after_its_retries(start_instance, db: Database):
    await start_instance()
    await FLAKY.defer(db, {"failures": 99})

    async def exhausted() -> bool:
        return len(await runs(db, FLAKY.name)) == FLAKY.retries + 1

    await eventually(exhausted)
    await asyncio.sleep(2)
    assert len(await runs(db, FLAKY.name)) == FLAKY.retries + 1


async def test_a_job_deferred_in_a_transaction_exists_only_if_it_commits(
    start_instance, db: Database
):
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            await ONCE.defer(tx, {"kept": False})
            raise RuntimeError("roll back")
    async with db.transaction() as tx:
        kept = await ONCE.defer(tx, {"kept": True})
    await start_instance()

    async def ran() -> bool:
        return bool(await runs(db, ONCE.name))

    await eventually(ran)
    await asyncio.sleep(0.5)
    assert [row["job_id"] for row in await runs(db, ONCE.name)] == [kept]


async def test_a_dedupe_key_keeps_one_waiting_job(db: Database):
    first = await ONCE.defer(db, delay=timedelta(hours=1), dedupe_key="one")
    assert first is not None
    assert await ONCE.defer(db, delay=timedelta(hours=1), dedupe_key="one") is None


async def test_an_owned_executor_cannot_defer(db: Database):
    with pytest.raises(OwnershipError):
        await ONCE.defer(db.owned("someone"))


async def test_a_periodic_job_runs_once_per_due_time_across_instances(start_instance, db: Database):
    await start_instance()
    await start_instance()

    async def ticked_thrice() -> bool:
        return len(await runs(db, TICK.name)) >= 3

    await eventually(ticked_thrice)
    times = [row["at"] for row in await runs(db, TICK.name)]
    # every second is due; two instances running one due time would run it milliseconds apart
    assert all((b - a).total_seconds() > 0.5 for a, b in itertools.pairwise(times))


async def test_definitions_are_checked_at_start_up():
    with pytest.raises(ConfigError, match="defined twice"):
        Definitions.of([ONCE, JobKind(ONCE.name, once)])
    with pytest.raises(ConfigError, match="names a task no plugin"):
        Definitions.of([Periodic(JobKind("sample.unlisted", once), "* * * * *")])
    with pytest.raises(ConfigError, match="is not a cron"):
        Periodic(ONCE, "every day")


async def test_readiness_reports_a_stuck_queue(start_instance, db: Database):
    client = await start_instance(jobs={"worker": False, "stuck_after_seconds": 60})
    assert (await client.get("/api/v1/health/ready")).status_code == 200
    await ONCE.defer(db)
    await db.execute(text("UPDATE pgqueuer SET execute_after = now() - interval '2 minutes'"))
    response = await client.get("/api/v1/health/ready")
    assert response.status_code == 503
    assert re.fullmatch(
        r"job queue stuck: the oldest due job has waited 12\d s \(more than 60 s\); "
        r"is a worker running\?",
        response.json()["detail"],
    )


async def test_a_disabled_plugins_waiting_job_is_not_a_stuck_queue(start_instance, db: Database):
    client = await start_instance(jobs={"worker": False, "stuck_after_seconds": 60})
    await ONCE.defer(db)
    # A job of a task no enabled plugin defines (its plugin was disabled), long due.
    await db.execute(
        text(
            "UPDATE pgqueuer SET entrypoint = 'gone.task', execute_after = now() - interval '1 hour'"
        )
    )
    assert (await client.get("/api/v1/health/ready")).status_code == 200


async def test_behind_a_transaction_pooler_without_a_direct_url_the_worker_polls(
    start_instance, db: Database, database_url: str, tmp_path: Path
):
    settings = settings_for(database_url, tmp_path, database_pool_mode=PoolMode.transaction)
    assert listen_options(settings, database_url) is None
    direct = settings_for(
        database_url,
        tmp_path,
        database_pool_mode=PoolMode.transaction,
        database_direct_url=database_url,
    )
    assert listen_options(direct, database_url) is not None
    await start_instance(database_pool_mode=PoolMode.transaction)
    job_id = await ONCE.defer(db)

    async def ran() -> bool:
        return bool(await runs(db, ONCE.name))

    await eventually(ran)
    assert [row["job_id"] for row in await runs(db, ONCE.name)] == [job_id]


async def test_a_worker_whose_listen_connection_dies_listens_again(start_instance, db: Database):
    await start_instance(jobs={"poll_seconds": 60})  # listening: woken by NOTIFY
    listening = text(
        "SELECT pid FROM pg_stat_activity"
        " WHERE datname = current_database() AND query LIKE 'LISTEN%'"
    )

    async def listener() -> int | None:
        rows = await db.fetch(listening)
        return rows[0]["pid"] if rows else None

    async def listens() -> bool:
        return await listener() is not None

    await eventually(listens)
    dead = await listener()
    await db.execute(text("SELECT pg_terminate_backend(:pid)"), pid=dead)

    async def listens_again() -> bool:
        return (await listener()) not in {None, dead}

    await eventually(listens_again, seconds=40)  # PgQueuer notices within two checks
    started = asyncio.get_running_loop().time()
    job_id = await ONCE.defer(db)

    async def ran() -> bool:
        return bool(await runs(db, ONCE.name))

    await eventually(ran)
    assert [row["job_id"] for row in await runs(db, ONCE.name)] == [job_id]
    assert asyncio.get_running_loop().time() - started < 5  # woken, not polled (every 10 s)
