"""Task: T-158
Spec: specs/features/authentication.md §Better Auth tokens

Tokens signed with `BETTER_AUTH_SECRET` as front ends make them — jose's
`new SignJWT({sub, email}).setProtectedHeader({alg: "HS256"}).setExpirationTime("1h")` — with no
`iss` or `aud`, and `BETTER_AUTH_SECRET` set without `BETTER_AUTH_URL`. When a token does
carry `iss` or `aud`, it must match; the token's algorithm never chooses the key.
"""

import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey

ME = "/api/v1/auth/me"
SECRET = "better-auth-shared-secret-of-32-bytes-or-more"
URL = "https://front.example"


def sign(claims: dict[str, Any], alg: str = "HS256", secret: str = SECRET, **header: Any) -> str:
    now = int(time.time())
    payload = {"sub": "ba-shared-1", "email": "ada@example.com", "exp": now + 600} | claims
    return jwt.encode({"alg": alg, **header}, payload, OctKey.import_key(secret), algorithms=[alg])


async def status(client, token: str) -> int:
    return (await client.get(ME, headers={"Authorization": f"Bearer {token}"})).status_code


@pytest.fixture
async def secret_only(make_client):
    return await make_client(environment={"BETTER_AUTH_SECRET": SECRET})


@pytest.fixture
async def with_url(make_client):
    return await make_client(environment={"BETTER_AUTH_SECRET": SECRET, "BETTER_AUTH_URL": URL})


async def test_a_token_as_signjwt_makes_it_is_accepted_with_the_secret_alone(secret_only):
    token = sign({})
    response = await secret_only.get(ME, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert response.json()["id"] == "ba-shared-1"
    assert response.json()["email"] == "ada@example.com"


@pytest.mark.parametrize("claims", [{"iss": URL}, {"aud": URL}], ids=["iss", "aud"])
async def test_without_a_configured_issuer_an_iss_or_aud_is_refused(secret_only, claims):
    assert await status(secret_only, sign(claims)) == 401


@pytest.mark.parametrize(
    "claims", [{}, {"iss": URL}, {"aud": URL}, {"iss": URL, "aud": [URL, "other"]}]
)
async def test_with_a_configured_issuer_iss_and_aud_are_optional_but_checked(with_url, claims):
    assert await status(with_url, sign(claims)) == 200


@pytest.mark.parametrize(
    "claims", [{"iss": "https://elsewhere.example"}, {"aud": "someone-else"}], ids=["iss", "aud"]
)
async def test_a_claim_that_does_not_match_is_refused(with_url, claims):
    assert await status(with_url, sign(claims)) == 401


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(sign({}, secret=SECRET + "x"), id="other-secret"),
        pytest.param(sign({}, alg="HS512"), id="hs512"),
        pytest.param(sign({}, kid="k1"), id="with-kid"),
        pytest.param(sign({"exp": int(time.time()) - 3600}), id="expired"),
        pytest.param(sign({"sub": ""}), id="empty-sub"),
    ],
)
async def test_anything_else_is_refused(secret_only, token):
    assert await status(secret_only, token) == 401


async def test_a_user_deleted_on_another_instance_comes_back_new_after_the_recheck(make_client, db):
    # Two instances on one database; each remembers the Better Auth users it has written.
    first, second = [
        await make_client(
            environment={"BETTER_AUTH_SECRET": SECRET},
            tables={"auth": {"user_recheck_seconds": seconds}},
        )
        for seconds in (0, 3600)
    ]
    token = {"Authorization": f"Bearer {sign({})}"}
    for instance in (first, second):
        assert (await instance.get(ME, headers=token)).status_code == 200
    await db.execute("DELETE FROM users WHERE id = 'ba-shared-1'")
    created = await first.post("/api/v1/tasks", json={"title": "after"}, headers=token)
    assert created.status_code == 201, created.text  # made again, as new
    await db.execute("DELETE FROM users WHERE id = 'ba-shared-1'")
    refused = await second.post("/api/v1/tasks", json={"title": "after"}, headers=token)
    assert refused.status_code == 401  # within its recheck time: the foreign key says so
    assert await db.fetchval("SELECT count(*) FROM users WHERE id = 'ba-shared-1'") == 0
