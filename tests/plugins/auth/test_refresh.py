"""Task: T-028, T-103
Spec: specs/features/authentication.md §Refresh tokens
"""

import asyncio

import asyncpg
import pytest
from sqlalchemy import make_url

from app.core import secret_digest
from app.plugins.auth.refresh import _ROTATE
from tests.plugins.auth.conftest import PASSWORD

AUTH = "/api/v1/auth"
ADA = {"email": "ada@example.com", "password": PASSWORD}


@pytest.fixture
async def db(database_url):
    connection = await asyncpg.connect(
        make_url(database_url).set(drivername="postgresql").render_as_string(False)
    )
    try:
        yield connection
    finally:
        await connection.close()


async def logged_in(client) -> dict:
    await client.post(f"{AUTH}/register", json=ADA)
    return (await client.post(f"{AUTH}/login", json=ADA)).json()


async def refresh(client, token: str):
    return await client.post(f"{AUTH}/refresh", json={"refresh_token": token})


async def families(db) -> list[tuple[str, bool]]:
    """Each stored token's family, and whether it is revoked."""
    rows = await db.fetch("SELECT family_id, revoked_at IS NOT NULL AS revoked FROM refresh_tokens")
    return sorted((row["family_id"], row["revoked"]) for row in rows)


async def age_uses(db, seconds: int) -> None:
    """Move every token's first use `seconds` into the past instead of waiting."""
    await db.execute(
        "UPDATE refresh_tokens SET used_at = used_at - make_interval(secs => $1)", seconds
    )


async def test_refresh_rotates(client):
    first = await logged_in(client)
    second = await refresh(client, first["refresh_token"])
    assert second.status_code == 200
    assert second.json()["refresh_token"] != first["refresh_token"]
    headers = {"Authorization": f"Bearer {second.json()['access_token']}"}
    assert (await client.get(f"{AUTH}/me", headers=headers)).status_code == 200


@pytest.mark.parametrize("racers", [2, 10])
async def test_concurrent_refreshes_with_one_token_all_get_a_pair_in_its_family(
    make_client, db, racers
):
    # Tabs of one browser, split over two instances on one database.
    instances = [await make_client(), await make_client()]
    tokens = await logged_in(instances[0])
    answers = await asyncio.gather(
        *(refresh(instances[n % 2], tokens["refresh_token"]) for n in range(racers))
    )
    assert [answer.status_code for answer in answers] == [200] * racers
    fresh = {answer.json()["refresh_token"] for answer in answers}
    assert len(fresh) == racers  # a new token for each, never one handed out twice
    stored = await families(db)
    assert len(stored) == 1 + racers
    assert len({family for family, _ in stored}) == 1
    assert not any(revoked for _, revoked in stored)
    for token in fresh:  # the family lives on: each tab refreshes on its own
        assert (await refresh(instances[0], token)).status_code == 200


async def test_reuse_within_the_grace_window_gets_a_new_token(client, db):
    first = await logged_in(client)
    second = (await refresh(client, first["refresh_token"])).json()
    await age_uses(db, 9)
    again = await refresh(client, first["refresh_token"])
    assert again.status_code == 200
    assert again.json()["refresh_token"] not in {first["refresh_token"], second["refresh_token"]}
    assert (await refresh(client, second["refresh_token"])).status_code == 200


async def test_reuse_after_the_grace_window_revokes_the_family(client, db):
    first = await logged_in(client)
    second = (await refresh(client, first["refresh_token"])).json()
    await age_uses(db, 11)
    replay = await refresh(client, first["refresh_token"])
    assert replay.status_code == 401
    assert (await refresh(client, second["refresh_token"])).status_code == 401
    assert all(revoked for _, revoked in await families(db))


async def test_without_a_grace_window_tokens_are_single_use(make_client):
    client = await make_client(tables={"auth": {"refresh_grace_seconds": 0}})
    first = await logged_in(client)
    second = (await refresh(client, first["refresh_token"])).json()
    assert (await refresh(client, first["refresh_token"])).status_code == 401
    assert (await refresh(client, second["refresh_token"])).status_code == 401


async def test_a_family_with_a_revoked_token_is_dead(client, db):
    # A token stored while its family was being revoked, and missed by the revocation.
    first = await logged_in(client)
    second = (await refresh(client, first["refresh_token"])).json()
    await db.execute("UPDATE refresh_tokens SET revoked_at = now() WHERE used_at IS NOT NULL")
    assert (await refresh(client, second["refresh_token"])).status_code == 401


async def test_expired_tokens_are_refused_within_the_window(client, db):
    first = await logged_in(client)
    await refresh(client, first["refresh_token"])
    await db.execute("UPDATE refresh_tokens SET expires_at = now()")
    assert (await refresh(client, first["refresh_token"])).status_code == 401


async def test_a_rotation_applied_twice_stores_one_successor(client, db):
    # What the pool does when the connection drops after the server committed: send it again.
    first = await logged_in(client)
    database = client._transport.app.state.database
    params = {
        "token_hash": secret_digest(first["refresh_token"]),
        "next_hash": secret_digest("the successor"),
        "days": 30,
        "grace": 10,
        "user_agent": "Retrying/1.0",
        "address": "127.0.0.1",
    }
    user_id = await database.fetchval(_ROTATE, **params)
    assert user_id is not None
    assert await database.fetchval(_ROTATE, **params) == user_id
    assert len(await families(db)) == 2
