"""Task: T-027
Spec: specs/features/authentication.md §Throttling
"""

import asyncpg
from sqlalchemy import make_url

from tests.plugins.auth.conftest import PASSWORD

LOGIN = "/api/v1/auth/login"
LIMITS = {"auth": {"max_failed_logins": 3, "failed_login_window_seconds": 600}}


async def fail(client, email="ada@example.com"):
    return await client.post(LOGIN, json={"email": email, "password": "wrong password"})


async def register(client, email="ada@example.com"):
    await client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})


async def test_too_many_failures_give_429_with_retry_after(make_client):
    client = await make_client(tables=LIMITS)
    await register(client)
    assert [(await fail(client)).status_code for _ in range(3)] == [401, 401, 401]
    throttled = await client.post(LOGIN, json={"email": "ada@example.com", "password": PASSWORD})
    assert throttled.status_code == 429
    assert 1 <= int(throttled.headers["retry-after"]) <= 600
    assert throttled.headers["content-type"] == "application/problem+json"


async def test_the_limit_is_shared_by_instances(make_client):
    # Two apps on one database stand for two instances behind a load balancer.
    first = await make_client(tables=LIMITS)
    second = await make_client(tables=LIMITS)
    await register(first)
    await fail(first)
    await fail(second)
    await fail(first)
    assert (await fail(second)).status_code == 429


async def test_the_client_address_is_limited_across_emails(make_client):
    client = await make_client(tables=LIMITS)
    for n in range(3):
        await fail(client, email=f"user{n}@example.com")
    assert (await fail(client, email="fresh@example.com")).status_code == 429


async def test_throttling_expires_with_the_window(make_client, database_url):
    client = await make_client(tables=LIMITS)
    await register(client)
    for _ in range(3):
        await fail(client)
    assert (await fail(client)).status_code == 429
    # Age the failures past the window instead of waiting ten minutes.
    connection = await asyncpg.connect(
        make_url(database_url).set(drivername="postgresql").render_as_string(False)
    )
    try:
        await connection.execute("UPDATE login_failures SET at = at - interval '11 minutes'")
    finally:
        await connection.close()
    response = await client.post(LOGIN, json={"email": "ada@example.com", "password": PASSWORD})
    assert response.status_code == 200


async def test_success_clears_the_email_count(make_client):
    client = await make_client(tables=LIMITS)
    await register(client)
    await fail(client)
    await fail(client)
    assert (
        await client.post(LOGIN, json={"email": "ada@example.com", "password": PASSWORD})
    ).status_code == 200
    assert (await fail(client)).status_code == 401
