"""Task: T-026, T-105, T-106
Spec: specs/features/authentication.md §Better Auth tokens
"""

import asyncio
import time
import warnings

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey, OKPKey

from tests.plugins.auth.conftest import KEY_TYPES

ME = "/api/v1/auth/me"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_eddsa_token_creates_the_user_on_first_use(better_auth, jwks):
    token = jwks.token("ed", "EdDSA", jwks.claims(email="ba@example.com", name="Bea"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # joserfc's EdDSA warning must not escape
        response = await better_auth.get(ME, headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.json()["id"] == "ba-user-1"
    assert response.json()["email"] == "ba@example.com"
    # ... and can use the rest of the API at once.
    created = await better_auth.post(
        "/api/v1/tasks", json={"title": "first"}, headers=bearer(token)
    )
    assert created.status_code == 201, created.text
    assert created.json()["user_id"] == "ba-user-1"


async def test_rfc9864_ed25519_name_is_accepted_too(better_auth, jwks):
    token = jwks.token("ed", "Ed25519", jwks.claims())
    assert (await better_auth.get(ME, headers=bearer(token))).status_code == 200


async def test_later_tokens_update_email_and_name(better_auth, jwks):
    await better_auth.get(
        ME, headers=bearer(jwks.token("ed", "EdDSA", jwks.claims(email="a@x.io")))
    )
    token = jwks.token("ed", "EdDSA", jwks.claims(email="b@x.io", name="New"))
    body = (await better_auth.get(ME, headers=bearer(token))).json()
    assert (body["email"], body["name"]) == ("b@x.io", "New")


@pytest.mark.parametrize("alg", ["ES256", "ES512", "RS256", "PS256"])
async def test_other_asymmetric_algorithms(better_auth, jwks, alg):
    jwks.add(alg, KEY_TYPES[alg]())
    token = jwks.token(alg, alg, jwks.claims())
    assert (await better_auth.get(ME, headers=bearer(token))).status_code == 200


async def test_rotated_key_is_fetched_once_and_unknown_kids_are_rate_limited(better_auth, jwks):
    assert (
        await better_auth.get(ME, headers=bearer(jwks.token("ed", "EdDSA", jwks.claims())))
    ).status_code == 200
    fetched = jwks.requests
    # A flood of unknown kids: refused, and the JWKS server is not asked again and again.
    stranger = OKPKey.generate_key("Ed25519")
    for n in range(10):
        token = jwks.token(f"nope-{n}", "EdDSA", jwks.claims(), key=stranger)
        assert (await better_auth.get(ME, headers=bearer(token))).status_code == 401
    assert jwks.requests <= fetched + 1


async def test_new_kid_triggers_a_refetch(make_client, jwks):
    client = await make_client(
        environment={"BETTER_AUTH_URL": jwks.url}, tables={"auth": {"jwks_refresh_seconds": 1}}
    )
    assert (
        await client.get(ME, headers=bearer(jwks.token("ed", "EdDSA", jwks.claims())))
    ).status_code == 200
    jwks.add("rotated", OKPKey.generate_key("Ed25519"))
    token = jwks.token("rotated", "EdDSA", jwks.claims())
    # The refetch is allowed once the interval since the last fetch has passed.
    await asyncio.sleep(1.1)
    assert (await client.get(ME, headers=bearer(token))).status_code == 200


async def test_hs256_signed_with_the_public_jwk_is_refused(better_auth, jwks):
    public = jwks.keys["ed"].as_dict(private=False)
    forged_key = OctKey.import_key(public["x"])
    forged = jwt.encode({"alg": "HS256", "kid": "ed"}, jwks.claims(), forged_key)
    assert (await better_auth.get(ME, headers=bearer(forged))).status_code == 401
    unkeyed = jwt.encode({"alg": "HS256"}, jwks.claims(), forged_key)
    assert (await better_auth.get(ME, headers=bearer(unkeyed))).status_code == 401


async def test_key_from_another_jwks_is_refused(better_auth, jwks):
    other = OKPKey.generate_key("Ed25519")
    token = jwks.token("ed", "EdDSA", jwks.claims(), key=other)
    assert (await better_auth.get(ME, headers=bearer(token))).status_code == 401


@pytest.mark.parametrize(
    "claim", [{"iss": "https://evil.example"}, {"aud": "https://evil.example"}, {"aud": None}]
)
async def test_wrong_issuer_or_audience_is_refused(better_auth, jwks, claim):
    token = jwks.token("ed", "EdDSA", jwks.claims(**claim))
    assert (await better_auth.get(ME, headers=bearer(token))).status_code == 401


async def test_jku_header_is_never_fetched(better_auth, jwks):
    decoy = OKPKey.generate_key("Ed25519")
    before = jwks.requests
    token = jwt.encode(
        {"alg": "Ed25519", "kid": "decoy", "jku": f"{jwks.url}/api/auth/jwks?evil=1"},
        jwks.claims(),
        decoy,
        algorithms=["Ed25519"],
    )
    assert (await better_auth.get(ME, headers=bearer(token))).status_code == 401
    assert jwks.requests <= before + 1  # at most the one refetch of the configured URL


async def test_issuers_are_kept_apart(better_auth, jwks):
    # A local account, then a Better Auth token naming the same id: refused.
    registered = await better_auth.post(
        "/api/v1/auth/register", json={"email": "local@example.com", "password": "correct horse"}
    )
    local_id = registered.json()["id"]
    token = jwks.token("ed", "EdDSA", jwks.claims(sub=local_id))
    assert (await better_auth.get(ME, headers=bearer(token))).status_code == 401


async def test_shared_secret_tokens(make_client, jwks):
    secret = "better-auth-shared-secret-of-32-bytes-or-more"
    client = await make_client(
        environment={"BETTER_AUTH_URL": jwks.url, "BETTER_AUTH_SECRET": secret}
    )
    token = jwt.encode({"alg": "HS256"}, jwks.claims(sub="ba-hmac"), OctKey.import_key(secret))
    assert (await client.get(ME, headers=bearer(token))).status_code == 200
    wrong = jwt.encode(
        {"alg": "HS256"}, jwks.claims(sub="ba-hmac"), OctKey.import_key(secret + "x")
    )
    assert (await client.get(ME, headers=bearer(wrong))).status_code == 401


async def test_better_auth_tokens_refused_when_not_configured(client, jwks):
    token = jwks.token("ed", "EdDSA", jwks.claims())
    response = await client.get(ME, headers=bearer(token))
    assert response.status_code == 401
    assert jwks.requests == 0


@pytest.mark.parametrize(
    "lifetime", [{"exp": 2 * 86400}, {"exp": 10**20}, {"exp": 10**20, "iat": None}]
)
async def test_tokens_living_longer_than_the_cap_are_refused(better_auth, jwks, lifetime):
    now = int(time.time())
    claims = {"exp": now + lifetime["exp"], "iat": lifetime.get("iat", now)}
    token = jwks.token("ed", "EdDSA", jwks.claims(**claims))
    response = await better_auth.get(ME, headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid token"


async def test_the_lifetime_cap_is_configurable(make_client, jwks):
    client = await make_client(
        environment={"BETTER_AUTH_URL": jwks.url},
        tables={"auth": {"better_auth_max_lifetime_seconds": 3 * 86400}},
    )
    token = jwks.token("ed", "EdDSA", jwks.claims(exp=int(time.time()) + 2 * 86400))
    assert (await client.get(ME, headers=bearer(token))).status_code == 200


async def test_a_nul_in_sub_is_refused_and_in_email_or_name_ignored(better_auth, jwks):
    refused = jwks.token("ed", "EdDSA", jwks.claims(sub="ba\x00user"))
    assert (await better_auth.get(ME, headers=bearer(refused))).status_code == 401
    token = jwks.token("ed", "EdDSA", jwks.claims(email="b\x00@x.io", name="B\x00"))
    response = await better_auth.get(ME, headers=bearer(token))
    assert response.status_code == 200
    assert (response.json()["email"], response.json()["name"]) == (None, None)
