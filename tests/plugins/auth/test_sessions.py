"""Task: T-390, T-391
Spec: specs/features/authentication.md §Sessions

`GET /auth/sessions` lists the caller's sessions (refresh-token families) with their client;
`DELETE /auth/sessions/{id}` ends one, `DELETE /auth/sessions` every other. An ended session's
refresh token is refused at once, by every instance on the database.
"""

import asyncio

from tests.plugins.auth.test_logout import refreshes, sid
from tests.plugins.auth.test_routes import AUTH, bearer, login, register

SESSIONS = f"{AUTH}/sessions"


async def login_as(client, agent: str) -> dict:
    response = await client.post(
        f"{AUTH}/login",
        json={"email": "ada@example.com", "password": "correct horse battery"},
        headers={"User-Agent": agent},
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_sessions_list_each_login_with_its_client_and_marks_the_current_one(client):
    await register(client)
    laptop = await login_as(client, "Laptop/1.0")
    phone = await login_as(client, "Phone/2.0")
    response = await client.get(SESSIONS, headers=bearer(laptop))
    assert response.status_code == 200, response.text
    listed = response.json()
    assert [s["id"] for s in listed] == [sid(phone), sid(laptop)]  # most recently used first
    assert [s["user_agent"] for s in listed] == ["Phone/2.0", "Laptop/1.0"]
    assert [s["current"] for s in listed] == [False, True]
    assert {s["address"] for s in listed} == {"127.0.0.1"}
    assert set(listed[0]) == {
        "id",
        "created_at",
        "last_used_at",
        "user_agent",
        "address",
        "current",
    }


async def test_a_refresh_keeps_the_session_and_moves_its_last_use(client):
    await register(client)
    laptop = await login_as(client, "Laptop/1.0")
    await asyncio.sleep(0.01)
    renewed = (
        await client.post(
            f"{AUTH}/refresh",
            json={"refresh_token": laptop["refresh_token"]},
            headers={"User-Agent": "Laptop/1.1"},
        )
    ).json()
    (session,) = (await client.get(SESSIONS, headers=bearer(renewed))).json()
    assert session["id"] == sid(laptop)
    assert session["user_agent"] == "Laptop/1.1"
    assert session["last_used_at"] > session["created_at"]


async def test_an_ended_session_is_gone_and_its_refresh_token_refused(client):
    await register(client)
    laptop = await login_as(client, "Laptop/1.0")
    phone = await login_as(client, "Phone/2.0")
    response = await client.delete(f"{SESSIONS}/{sid(phone)}", headers=bearer(laptop))
    assert response.status_code == 204
    assert await refreshes(client, phone) == 401
    assert [s["id"] for s in (await client.get(SESSIONS, headers=bearer(laptop))).json()] == [
        sid(laptop)
    ]
    # Ended already: nothing to end.
    assert (
        await client.delete(f"{SESSIONS}/{sid(phone)}", headers=bearer(laptop))
    ).status_code == 404


async def test_ending_every_other_session_keeps_this_one(client):
    await register(client)
    sessions = [await login_as(client, f"Agent/{n}") for n in range(3)]
    response = await client.delete(SESSIONS, headers=bearer(sessions[0]))
    assert response.status_code == 204
    assert [await refreshes(client, s) for s in sessions] == [200, 401, 401]


async def test_another_users_session_is_a_404_and_stays(client):
    await register(client)
    await register(client, email="eve@example.com")
    ada = (await login(client)).json()
    eve = (await login(client, email="eve@example.com")).json()
    for session_id in (sid(ada), "x" * 10_000, "nul%00"):
        response = await client.delete(f"{SESSIONS}/{session_id}", headers=bearer(eve))
        assert response.status_code == 404, session_id
    assert await refreshes(client, ada) == 200
    assert [s["id"] for s in (await client.get(SESSIONS, headers=bearer(eve))).json()] == [sid(eve)]


async def test_a_long_user_agent_is_cut(client):
    await register(client)
    tokens = await login_as(client, "A" * 10_000)
    (session,) = (await client.get(SESSIONS, headers=bearer(tokens))).json()
    assert session["user_agent"] == "A" * 512


async def test_an_ended_session_is_refused_by_another_instance_at_once(client, make_client):
    other = await make_client()  # a second app on the same database
    await register(client)
    laptop = await login_as(client, "Laptop/1.0")
    phone = await login_as(client, "Phone/2.0")
    renewed = (
        await other.post(f"{AUTH}/refresh", json={"refresh_token": phone["refresh_token"]})
    ).json()  # the other instance has seen the session in use
    await client.delete(f"{SESSIONS}/{sid(phone)}", headers=bearer(laptop))
    assert await refreshes(other, renewed) == 401
