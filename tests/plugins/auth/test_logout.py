"""Task: T-157
Spec: specs/features/authentication.md §Refresh tokens, §Logout

`POST /auth/logout` with no body ends the session of the access token presented: login and
refresh put the session (the refresh-token family) in the token as `sid`. A token without one
gets a 400 saying what to send, never a 204 that revoked nothing.
"""

from joserfc import jwt
from joserfc.jwk import OctKey

from app.plugins.auth.tokens import Issuer
from app.testing import TEST_SECRET
from tests.plugins.auth.test_routes import AUTH, bearer, login, register


async def refreshes(client, tokens: dict) -> int:
    response = await client.post(f"{AUTH}/refresh", json={"refresh_token": tokens["refresh_token"]})
    return response.status_code


def sid(tokens: dict) -> str:
    return jwt.decode(tokens["access_token"], OctKey.import_key(TEST_SECRET)).claims["sid"]


async def test_access_tokens_name_their_session(client):
    await register(client)
    one = (await login(client)).json()
    two = (await login(client)).json()
    assert sid(one) != sid(two)
    renewed = (
        await client.post(f"{AUTH}/refresh", json={"refresh_token": one["refresh_token"]})
    ).json()
    assert sid(renewed) == sid(one)


async def test_a_refresh_within_the_grace_window_stays_in_the_session(client):
    # Two tabs refreshing with one token both get a pair of its session, and logging out of
    # either ends it for both.
    await register(client)
    one = (await login(client)).json()
    first, second = [
        (await client.post(f"{AUTH}/refresh", json={"refresh_token": one["refresh_token"]})).json()
        for _ in range(2)
    ]
    assert first["refresh_token"] != second["refresh_token"]
    assert sid(first) == sid(second) == sid(one)
    assert (await client.post(f"{AUTH}/logout", headers=bearer(second))).status_code == 204
    assert await refreshes(client, first) == 401


async def test_logout_without_a_body_ends_the_tokens_own_session(client):
    await register(client)
    one = (await login(client)).json()
    two = (await login(client)).json()
    response = await client.post(f"{AUTH}/logout", headers=bearer(one))
    assert response.status_code == 204
    assert await refreshes(client, one) == 401
    assert await refreshes(client, two) == 200


async def test_logout_after_a_refresh_ends_the_renewed_session(client):
    await register(client)
    one = (await login(client)).json()
    renewed = (
        await client.post(f"{AUTH}/refresh", json={"refresh_token": one["refresh_token"]})
    ).json()
    assert (await client.post(f"{AUTH}/logout", headers=bearer(renewed))).status_code == 204
    assert await refreshes(client, renewed) == 401


async def test_a_token_without_a_session_is_told_what_to_send(client):
    user = (await register(client)).json()
    issuer = Issuer(OctKey.import_key(TEST_SECRET), "HS256", 600)
    tokens = {"access_token": issuer.issue(user["id"])}  # signed here, but by no login
    session = (await login(client)).json()
    response = await client.post(f"{AUTH}/logout", headers=bearer(tokens))
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert '{"all": true}' in response.json()["detail"]
    assert await refreshes(client, session) == 200
