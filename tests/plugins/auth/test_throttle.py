"""Task: T-100
Spec: specs/features/authentication.md §Throttling
"""

import asyncio

import asyncpg
import httpx
import pytest
from sqlalchemy import make_url

from tests.plugins.auth.conftest import PASSWORD

LOGIN = "/api/v1/auth/login"
ADA = "ada@example.com"
LIMITS = {
    "auth": {
        "max_failed_logins": 3,
        "max_failed_logins_per_account": 6,
        "failed_login_window_seconds": 600,
        "lockout_seconds": 5,
    }
}


async def fail(client, email=ADA):
    return await client.post(LOGIN, json={"email": email, "password": "wrong password"})


async def succeed(client, email=ADA):
    return await client.post(LOGIN, json={"email": email, "password": PASSWORD})


async def register(client, email=ADA):
    await client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})


def from_address(client: httpx.AsyncClient, address: str) -> httpx.AsyncClient:
    """A client of the same app whose requests come from `address`."""
    app = client._transport.app  # type: ignore[attr-defined]
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def run_sql(database_url: str, sql: str) -> None:
    connection = await asyncpg.connect(
        make_url(database_url).set(drivername="postgresql").render_as_string(False)
    )
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def test_too_many_failures_give_429_with_retry_after(make_client):
    client = await make_client(tables=LIMITS)
    await register(client)
    assert [(await fail(client)).status_code for _ in range(3)] == [401, 401, 401]
    throttled = await succeed(client)
    assert throttled.status_code == 429
    assert throttled.headers["retry-after"] == "5"
    assert throttled.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("guesses", [20, 100])
async def test_parallel_guesses_get_at_most_the_limit_of_tries(make_client, guesses):
    client = await make_client(tables=LIMITS)
    await register(client)
    answers = await asyncio.gather(*(fail(client) for _ in range(guesses)))
    codes = [answer.status_code for answer in answers]
    assert codes.count(401) == 3
    assert codes.count(429) == guesses - 3


@pytest.mark.parametrize("guesses", [20, 100])
async def test_parallel_guesses_on_two_instances_share_the_limit(make_client, guesses):
    # Two apps on one database stand for two instances behind a load balancer.
    instances = [await make_client(tables=LIMITS), await make_client(tables=LIMITS)]
    await register(instances[0])
    answers = await asyncio.gather(*(fail(instances[n % 2]) for n in range(guesses)))
    codes = [answer.status_code for answer in answers]
    assert codes.count(401) == 3
    assert codes.count(429) == guesses - 3


async def test_a_busy_shared_address_does_not_block_a_correct_password(make_client):
    # Behind one NAT address, others fail on their own accounts until each is locked.
    client = await make_client(tables=LIMITS)
    await register(client)
    for n in range(10):
        for _ in range(4):
            await fail(client, email=f"user{n}@example.com")
    assert (await fail(client, email="user0@example.com")).status_code == 429
    assert (await succeed(client)).status_code == 200


async def test_one_address_cannot_lock_the_owner_out(make_client):
    client = await make_client(tables=LIMITS)
    await register(client)
    attacker = from_address(client, "203.0.113.9")
    codes = [(await fail(attacker)).status_code for _ in range(20)]
    assert codes.count(401) == 3 and codes.count(429) == 17
    # Attempts refused by a lockout count nowhere: the account has seen 3 of its 6.
    assert (await succeed(client)).status_code == 200


async def test_guesses_from_many_addresses_share_the_account_limit(make_client):
    client = await make_client(tables=LIMITS)
    await register(client)
    codes = [(await fail(from_address(client, f"198.51.100.{n}"))).status_code for n in range(10)]
    assert codes == [401] * 6 + [429] * 4
    assert (await succeed(from_address(client, "192.0.2.1"))).status_code == 429


def limits(**changes: int) -> dict[str, dict[str, int]]:
    return {"auth": LIMITS["auth"] | changes}


async def test_lockouts_double_with_one_try_between_them(make_client, database_url):
    # Each try after a lockout counts on the account too: give it room for them.
    client = await make_client(tables=limits(max_failed_logins_per_account=20))
    await register(client)
    for _ in range(3):
        await fail(client)
    waits = []
    for _ in range(4):
        refused = await fail(client)
        assert refused.status_code == 429
        waits.append(int(refused.headers["retry-after"]))
        # End the lockout instead of waiting for it.
        await run_sql(database_url, "UPDATE login_failures SET blocked_until = now()")
        assert (await fail(client)).status_code == 401  # one try after each lockout
    assert waits == [5, 10, 20, 40]


async def test_lockouts_stop_at_the_maximum(make_client, database_url):
    client = await make_client(
        tables=limits(max_failed_logins_per_account=20, max_lockout_seconds=12)
    )
    waits = []
    for _ in range(3):
        await fail(client)
    for _ in range(4):
        waits.append(int((await fail(client)).headers["retry-after"]))
        await run_sql(database_url, "UPDATE login_failures SET blocked_until = now()")
        await fail(client)
    assert waits == [5, 10, 12, 12]


async def test_counters_are_forgotten_after_the_window(make_client, database_url):
    client = await make_client(tables=LIMITS)
    await register(client)
    for _ in range(3):
        await fail(client)
    assert (await fail(client)).status_code == 429
    # Age the counters past their window instead of waiting for it.
    await run_sql(
        database_url,
        "UPDATE login_failures SET blocked_until = now() - interval '11 minutes',"
        " expires_at = now() - interval '1 minute'",
    )
    assert [(await fail(client)).status_code for _ in range(4)] == [401, 401, 401, 429]


async def test_success_clears_the_account_and_address_counts(make_client, database_url):
    client = await make_client(tables=LIMITS)
    await register(client)
    elsewhere = from_address(client, "198.51.100.7")
    for _ in range(2):
        await fail(client)
        await fail(elsewhere)
    assert (await succeed(client)).status_code == 200
    # This address and the account start afresh; the other address keeps its own count.
    assert [(await fail(client)).status_code for _ in range(4)] == [401, 401, 401, 429]
    assert [(await fail(elsewhere)).status_code for _ in range(2)] == [401, 429]


async def test_expired_counters_are_purged_by_later_attempts(make_client, database_url):
    client = await make_client(tables=LIMITS)
    for n in range(2):  # two counters each, deleted two at a time
        await fail(client, email=f"user{n}@example.com")
    await run_sql(database_url, "UPDATE login_failures SET expires_at = now()")
    await fail(client)
    await fail(client)
    connection = await asyncpg.connect(
        make_url(database_url).set(drivername="postgresql").render_as_string(False)
    )
    try:
        keys = {row["key"] for row in await connection.fetch("SELECT key FROM login_failures")}
    finally:
        await connection.close()
    assert keys == {f"email:{ADA}", f"email:{ADA};ip:127.0.0.1"}
