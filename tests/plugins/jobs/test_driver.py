"""Task: T-164
Spec: specs/features/jobs.md §Behind a transaction pooler

The split driver: statements through the app's pool, LISTEN on a connection of its own, and no
NOTIFY sent before that LISTEN is in place (PgQueuer's listener probe would otherwise race it,
be lost, and get a working worker restarted every 10 s).
"""

import asyncio

import asyncpg

from app.core import Database
from app.plugins.jobs.driver import SplitDriver
from app.testing.database import libpq_url

CHANNEL = "todo_api_driver_test"


async def test_a_notify_waits_for_the_listen_and_is_heard(db: Database, database_url: str):
    listener = await asyncpg.connect(libpq_url(database_url))
    try:
        driver = SplitDriver(db.pool, listener)
        heard: asyncio.Queue[str] = asyncio.Queue()
        probe = asyncio.create_task(driver.notify(CHANNEL, "probe"))
        await asyncio.sleep(0.2)
        assert not probe.done()  # held back: nobody listens yet
        await driver.add_listener(CHANNEL, lambda payload: heard.put_nowait(str(payload)))
        await asyncio.wait_for(probe, 5)
        assert await asyncio.wait_for(heard.get(), 5) == "probe"
    finally:
        await listener.close()


async def test_without_a_listener_a_notify_goes_at_once(db: Database):
    await asyncio.wait_for(SplitDriver(db.pool, None).notify(CHANNEL, "unheard"), 5)
