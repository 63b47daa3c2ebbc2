"""Task: T-022, T-102
Spec: specs/features/authentication.md §Passwords
"""

import asyncio
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from app.plugins.auth.passwords import HASHER, Passwords
from tests.plugins.auth.conftest import PASSWORD

AUTH = "/api/v1/auth"
ADA = {"email": "ada@example.com", "password": PASSWORD}
BOB = {"email": "bob@example.com", "password": PASSWORD}


async def test_hashes_are_argon2id_with_owasp_parameters():
    passwords = Passwords(queue_seconds=5)
    hashed = await passwords.hash(PASSWORD)
    assert hashed.startswith("$argon2id$")
    assert "m=19456,t=2,p=1" in hashed
    assert await passwords.verify(PASSWORD, hashed) == (True, None)
    assert (await passwords.verify("wrong", hashed))[0] is False


async def test_old_parameters_are_upgraded_on_verify():
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    old = PasswordHash((Argon2Hasher(memory_cost=8192, time_cost=1, parallelism=1),)).hash(PASSWORD)
    valid, upgraded = await Passwords(queue_seconds=5).verify(PASSWORD, old)
    assert valid
    assert upgraded is not None and "m=19456,t=2,p=1" in upgraded
    assert HASHER.verify(PASSWORD, upgraded)


async def test_missing_hash_is_verified_against_a_dummy():
    assert await Passwords(queue_seconds=5).verify(PASSWORD, None) == (False, None)


async def test_logins_do_not_stall_the_event_loop(client):
    """While several logins hash, a cheap request on the same loop is answered first."""
    await client.post(f"{AUTH}/register", json=ADA)
    order: list[str] = []

    async def login() -> None:
        await client.post(f"{AUTH}/login", json=ADA)
        order.append("login")

    async def health() -> None:
        await asyncio.sleep(0)  # let the logins start hashing first
        await client.get("/api/v1/health")
        order.append("health")

    await asyncio.gather(*(login() for _ in range(4)), health())
    assert order[0] == "health"
    assert order.count("login") == 4


class Held:
    """Makes one of HASHER's methods wait, in its worker thread, until released."""

    def __init__(self, original: Callable[..., Any]) -> None:
        self.original = original
        self.started = threading.Event()
        self.released = threading.Event()

    def __call__(self, *args: Any) -> Any:
        self.started.set()
        self.released.wait(timeout=10)
        return self.original(*args)

    async def hashing(self) -> None:
        assert await asyncio.to_thread(self.started.wait, 10)


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], Held]]:
    made: list[Held] = []

    def hold(method: str) -> Held:
        made.append(Held(getattr(HASHER, method)))
        monkeypatch.setattr(HASHER, method, made[-1])
        return made[-1]

    yield hold
    for one in made:  # never leave a worker thread waiting
        one.released.set()


async def one_connection_app(make_client):
    """An app whose pool has a single connection, with Bob logged in."""
    client = await make_client(database_pool_size=1)
    for account in (ADA, BOB):
        assert (await client.post(f"{AUTH}/register", json=account)).status_code == 201
    bob = (await client.post(f"{AUTH}/login", json=BOB)).json()
    return client, {"Authorization": f"Bearer {bob['access_token']}"}


async def test_a_login_holds_no_connection_while_hashing(make_client, held):
    client, bob = await one_connection_app(make_client)
    hashing = held("verify_and_update")
    login = asyncio.create_task(client.post(f"{AUTH}/login", json=ADA))
    await hashing.hashing()
    # The pool's only connection is free: Bob's request is answered while Ada's login hashes.
    tasks = await asyncio.wait_for(client.get("/api/v1/tasks", headers=bob), timeout=5)
    assert tasks.status_code == 200
    assert not login.done()
    hashing.released.set()
    assert (await login).status_code == 200


async def test_a_registration_holds_no_connection_while_hashing(make_client, held):
    client, bob = await one_connection_app(make_client)
    hashing = held("hash")
    account = {"email": "cy@example.com", "password": PASSWORD}
    register = asyncio.create_task(client.post(f"{AUTH}/register", json=account))
    await hashing.hashing()
    tasks = await asyncio.wait_for(client.get("/api/v1/tasks", headers=bob), timeout=5)
    assert tasks.status_code == 200
    assert not register.done()
    hashing.released.set()
    assert (await register).status_code == 201


@pytest.mark.parametrize(
    ("path", "method", "body"),
    [
        ("login", "verify_and_update", ADA),
        ("register", "hash", {"email": "cy@example.com", "password": PASSWORD}),
    ],
)
async def test_hashing_waits_at_most_the_queue_time_then_503(
    make_client, held, monkeypatch, path, method, body
):
    monkeypatch.setattr(os, "cpu_count", lambda: 1)  # one hashing slot
    client = await make_client(tables={"auth": {"hashing_queue_seconds": 0.2}})
    assert (await client.post(f"{AUTH}/register", json=ADA)).status_code == 201
    hashing = held(method)
    first = asyncio.create_task(client.post(f"{AUTH}/{path}", json=body))
    await hashing.hashing()
    second = await client.post(f"{AUTH}/{path}", json=body)
    assert second.status_code == 503
    assert second.headers["retry-after"] == "1"
    assert second.headers["content-type"] == "application/problem+json"
    hashing.released.set()
    assert (await first).status_code in {200, 201}
