"""Task: T-139
Spec: specs/api/rest-endpoints.md §Changes

`GET /changes/stream` on real servers: two instances on one database, LISTEN/NOTIFY between
them, resuming with Last-Event-ID, polling without a direct connection, heartbeats, and a
closed stream leaving nothing behind.
"""

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from app.core.settings import PoolMode
from app.plugins.changes.notifier import CHANNEL
from harness.sse import Event, events, next_event
from tests.plugins.tasks.conftest import User, sign_up

STREAM = "/api/v1/changes/stream"
# Connections listening to the change feed's channel (the job worker listens on its own).
LISTENERS = f"SELECT count(*) FROM pg_stat_activity WHERE query = 'LISTEN \"{CHANNEL}\"'"


@asynccontextmanager
async def stream(
    base: str, user: User, **headers: str
) -> AsyncIterator[AsyncIterator[Event | str]]:
    auth = {"Authorization": f"Bearer {user.token}", **headers}
    async with (
        httpx.AsyncClient(base_url=base, timeout=10) as client,
        client.stream("GET", STREAM, headers=auth, params={"since": "now"}) as response,
    ):
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield events(response)


async def user_on(base: str) -> User:
    return await sign_up(httpx.AsyncClient(base_url=base, timeout=10))


async def test_a_change_made_on_one_instance_reaches_a_stream_on_another(make_server, db):
    a, _ = await make_server()
    b, app_b = await make_server()
    user = await user_on(a)
    async with stream(b, user) as changes:
        for title in ("first", "second"):
            started = time.monotonic()
            created = await user.create(title=title)
            change = await next_event(changes)
            assert time.monotonic() - started < 1
            assert (change.event, change.data["id"], change.data["data"]) == (
                "change",
                created["id"],
                created,
            )
        assert app_b.state.context.state["changes"].notifier.listening
        assert await db.fetchval(LISTENERS) == 1  # B's; A has no stream


async def test_one_listener_however_many_streams(make_server, db):
    base, app = await make_server()
    users = [await user_on(base) for _ in range(3)]
    async with stream(base, users[0]), stream(base, users[1]), stream(base, users[2]):
        notifier = app.state.context.state["changes"].notifier
        assert notifier.subscribed == 3
        for _ in range(100):
            if notifier.listening:
                break
            await asyncio.sleep(0.02)
        assert await db.fetchval(LISTENERS) == 1


async def test_reconnecting_with_last_event_id_misses_nothing(make_server):
    base, _ = await make_server()
    user = await user_on(base)
    async with stream(base, user) as changes:
        first = await user.create(title="1")
        seen = await next_event(changes)
        assert seen.data["id"] == first["id"]
    # Disconnected: these happen meanwhile.
    missed = [(await user.create(title=str(n)))["id"] for n in (2, 3)]
    async with stream(base, user, **{"Last-Event-ID": seen.id}) as changes:
        assert [(await next_event(changes)).data["id"] for _ in missed] == missed
        later = await user.create(title="4")
        assert (await next_event(changes)).data["id"] == later["id"]


async def test_without_a_direct_connection_the_log_is_polled(make_server):
    # A transaction pooler cannot LISTEN; with no DATABASE_DIRECT_URL the feed polls.
    base, app = await make_server(database_pool_mode=PoolMode.transaction)
    user = await user_on(base)
    async with stream(base, user) as changes:
        started = time.monotonic()
        created = await user.create(title="polled")
        assert (await next_event(changes)).data["id"] == created["id"]
        assert time.monotonic() - started < 2
        assert not app.state.context.state["changes"].notifier.listening


async def test_a_direct_url_is_used_for_listen_behind_a_pooler(make_server, database_url):
    base, app = await make_server(
        database_pool_mode=PoolMode.transaction, database_direct_url=database_url
    )
    user = await user_on(base)
    async with stream(base, user) as changes:
        created = await user.create(title="direct")
        assert (await next_event(changes)).data["id"] == created["id"]
        assert app.state.context.state["changes"].notifier.listening


async def test_heartbeats_and_a_closed_stream_frees_its_subscription(make_server):
    base, app = await make_server(tables={"changes": {"heartbeat_seconds": 0.2}})
    notifier = app.state.context.state["changes"].notifier
    user = await user_on(base)
    async with stream(base, user) as changes:
        assert notifier.subscribed == 1
        async with asyncio.timeout(1):
            heartbeat = await anext(item async for item in changes if isinstance(item, str))
        assert heartbeat.startswith(": ping")
    for _ in range(100):
        if notifier.subscribed == 0:
            break
        await asyncio.sleep(0.02)
    assert notifier.subscribed == 0


async def test_an_expired_cursor_is_410_before_streaming(make_server, db):
    base, _ = await make_server()
    user = await user_on(base)
    await db.execute("INSERT INTO changes_horizon (xid, seq) VALUES (1, 1)")
    async with httpx.AsyncClient(base_url=base) as client:
        response = await client.get(STREAM, headers={"Authorization": f"Bearer {user.token}"})
    assert response.status_code == 410
