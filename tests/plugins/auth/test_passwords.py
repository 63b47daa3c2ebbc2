"""Task: T-022
Spec: specs/features/authentication.md §Passwords
"""

import asyncio

from app.plugins.auth.passwords import HASHER, hash_password, verify_password
from tests.plugins.auth.conftest import PASSWORD


async def test_hashes_are_argon2id_with_owasp_parameters():
    hashed = await hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$")
    assert "m=19456,t=2,p=1" in hashed
    assert await verify_password(PASSWORD, hashed) == (True, None)
    assert (await verify_password("wrong", hashed))[0] is False


async def test_old_parameters_are_upgraded_on_verify():
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    old = PasswordHash((Argon2Hasher(memory_cost=8192, time_cost=1, parallelism=1),)).hash(PASSWORD)
    valid, upgraded = await verify_password(PASSWORD, old)
    assert valid
    assert upgraded is not None and "m=19456,t=2,p=1" in upgraded
    assert HASHER.verify(PASSWORD, upgraded)


async def test_missing_hash_is_verified_against_a_dummy():
    assert await verify_password(PASSWORD, None) == (False, None)


async def test_logins_do_not_stall_the_event_loop(client):
    """While several logins hash, a cheap request on the same loop is answered first."""
    await client.post(
        "/api/v1/auth/register", json={"email": "ada@example.com", "password": PASSWORD}
    )
    order: list[str] = []

    async def login() -> None:
        await client.post(
            "/api/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD}
        )
        order.append("login")

    async def health() -> None:
        await asyncio.sleep(0)  # let the logins start hashing first
        await client.get("/api/v1/health")
        order.append("health")

    await asyncio.gather(*(login() for _ in range(4)), health())
    assert order[0] == "health"
    assert order.count("login") == 4
