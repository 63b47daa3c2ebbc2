"""Task: T-234, T-235
Spec: specs/api/rest-endpoints.md §Changes

A change stream across a database outage: a real `todo-api serve` on an embedded PostgreSQL of
its own, killed (`pg_ctl stop -m immediate`) and started again on the same data. The stream
stays open, and delivers every acknowledged change once the database is back: nothing lost,
nothing twice.
"""

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from battery.postgres import Postgres, fresh_postgres
from harness.server import Account, account, serving
from harness.sse import events, next_event

TASKS = "/api/v1/tasks"
OUTAGE_SECONDS = 2.0


@pytest.fixture
async def postgres() -> AsyncIterator[Postgres]:
    # Outside pytest's shared temporary root, which another pytest run makes private (0700)
    # at any time: the server runs as another user when we are root.
    folder = Path(tempfile.mkdtemp(prefix="todo-api-outage-"))
    try:
        async with fresh_postgres(folder / "postgres") as server:
            yield server
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def create(client: httpx.AsyncClient, user: Account, title: str) -> str:
    """Create a task, retrying the 503s of a database still coming back; its id."""
    for _ in range(150):
        response = await client.post(TASKS, json={"title": title}, headers=user.headers)
        if response.status_code != 503:
            assert response.status_code == 201, response.text
            return str(response.json()["id"])
        await asyncio.sleep(0.2)
    raise AssertionError("the database did not come back")


async def test_a_stream_stays_open_across_an_outage_and_loses_nothing(postgres: Postgres):
    folder = Path(tempfile.mkdtemp(prefix="todo-api-outage-app-"))
    try:
        async with (
            serving(postgres.url, folder, log=folder / "server.log") as base,
            httpx.AsyncClient(base_url=base, timeout=30) as client,
        ):
            alice = await account(client, "alice@example.com")
            async with client.stream(
                "GET", "/api/v1/changes/stream", params={"since": "now"}, headers=alice.headers
            ) as response:
                assert response.status_code == 200
                stream = events(response)
                before = await create(client, alice, "before")
                assert (await next_event(stream)).data["id"] == before
                # An open transaction older than the next change holds it back: the stream reads
                # the log again and again, and so reads while the database is away.
                blocker = await asyncpg.connect(postgres.dsn)
                await blocker.execute("BEGIN; SELECT pg_current_xact_id()")
                held = await create(client, alice, "held back")
                await asyncio.sleep(0.5)
                await postgres.crash()
                await asyncio.sleep(OUTAGE_SECONDS)
                await postgres.start()
                blocker.terminate()
                after = await create(client, alice, "after")
                delivered = [(await next_event(stream, 30)).data["id"] for _ in range(2)]
                assert delivered == [held, after]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
