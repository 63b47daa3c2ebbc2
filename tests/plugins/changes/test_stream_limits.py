"""Task: T-218
Spec: specs/api/rest-endpoints.md §Changes, §Limits

Live streams are capped per user on all instances together (60 opened at once through two
real servers: exactly `max_streams_per_user` get in, the rest a 429 with Retry-After), and per
process (a 503 with Retry-After). A closed stream frees its slot; a stream whose instance died
stops counting when its lease expires; another user is never affected.
"""

import asyncio
import json
import time
from contextlib import AsyncExitStack

import httpx

from tests.plugins.changes.test_stream import STREAM, user_on
from tests.plugins.tasks.conftest import User

PER_USER = 8
RACERS = 60


async def opened(stack: AsyncExitStack, base: str, user: User) -> httpx.Response:
    """A stream opened (its body not read): left open until `stack` closes, unless refused."""
    client = await stack.enter_async_context(httpx.AsyncClient(base_url=base, timeout=20))
    request = client.build_request(
        "GET", STREAM, headers={"Authorization": f"Bearer {user.token}"}, params={"since": "now"}
    )
    response = await client.send(request, stream=True)
    stack.push_async_callback(response.aclose)
    if response.status_code != 200:
        await response.aread()
    return response


async def eventually_opened(stack: AsyncExitStack, base: str, user: User) -> httpx.Response:
    """Opened once a slot is free (a closed stream gives its slot back as its server notices)."""
    deadline = time.monotonic() + 20
    while (response := await opened(stack, base, user)).status_code != 200:
        assert time.monotonic() < deadline, response.text
        await asyncio.sleep(0.1)
    return response


async def test_sixty_opened_at_once_on_two_instances_let_in_the_cap(make_server, db):
    bases = [(await make_server())[0], (await make_server())[0]]
    alice, bob = await user_on(bases[0]), await user_on(bases[1])
    async with AsyncExitStack() as stack:
        answers = await asyncio.gather(*(opened(stack, bases[n % 2], alice) for n in range(RACERS)))
        codes = [answer.status_code for answer in answers]
        assert (codes.count(200), codes.count(429)) == (PER_USER, RACERS - PER_USER), codes
        refused = next(answer for answer in answers if answer.status_code == 429)
        assert refused.headers["retry-after"] == "30"
        assert refused.headers["content-type"] == "application/problem+json"
        assert "8 live change streams" in json.loads(refused.text)["detail"]

        # Another user is not affected, on either instance.
        for base in bases:
            assert (await opened(stack, base, bob)).status_code == 200

        # Closing one frees one slot, and only one.
        await next(answer for answer in answers if answer.status_code == 200).aclose()
        await eventually_opened(stack, bases[1], alice)
        assert (await opened(stack, bases[0], alice)).status_code == 429
    # Every stream closed: every lease given back.
    deadline = time.monotonic() + 20
    while await db.fetchval("SELECT count(*) FROM stream_leases WHERE leases <> '{}'"):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)


async def test_the_leases_of_a_dead_instance_expire(make_server, db):
    base, _ = await make_server()
    alice = await user_on(base)
    # Eight leases an instance left behind when it died, expired a second ago.
    dead = {f"stream-{n}": time.time() - 1 for n in range(PER_USER)}
    await db.execute("INSERT INTO stream_leases VALUES ($1, $2::jsonb)", alice.id, json.dumps(dead))
    async with AsyncExitStack() as stack:
        assert (await opened(stack, base, alice)).status_code == 200
        leases = json.loads(await db.fetchval("SELECT leases FROM stream_leases"))
        assert len(leases) == 1  # the expired ones were dropped as the new one was taken


async def test_a_process_holds_a_bounded_number_of_streams(make_server):
    base, app = await make_server(tables={"changes": {"max_streams": 2}})
    users = [await user_on(base) for _ in range(3)]
    async with AsyncExitStack() as stack:
        first = await opened(stack, base, users[0])
        assert (await opened(stack, base, users[1])).status_code == 200
        full = await opened(stack, base, users[2])
        assert full.status_code == 503
        assert full.headers["retry-after"] == "30"
        await first.aclose()
        await eventually_opened(stack, base, users[2])
        assert app.state.context.state["changes"].streams == 2
