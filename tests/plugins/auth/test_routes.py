"""Task: T-029, T-104, T-106
Spec: specs/api/rest-endpoints.md §Auth
"""

import pytest

AUTH = "/api/v1/auth"
PASSWORD = "correct horse battery"


async def register(client, email="ada@example.com", password=PASSWORD, **extra):
    return await client.post(
        f"{AUTH}/register", json={"email": email, "password": password, **extra}
    )


async def login(client, email="ada@example.com", password=PASSWORD):
    return await client.post(f"{AUTH}/login", json={"email": email, "password": password})


def bearer(tokens: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def test_register_returns_the_user_without_password_material(client):
    response = await register(client, email="  Ada@Example.com ", name="Ada")
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"id", "email", "name", "email_verified", "created_at"}
    assert body["email"] == "Ada@Example.com"
    assert body["name"] == "Ada"
    assert PASSWORD not in response.text


async def test_duplicate_email_is_409_case_insensitively(client):
    assert (await register(client, email="ada@example.com")).status_code == 201
    response = await register(client, email="ADA@example.COM")
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "body",
    [
        {"email": "ada@example.com", "password": "short"},
        {"email": "ada@example.com", "password": "x" * 129},
        {"email": "not-an-email", "password": PASSWORD},
        {"email": "ada@example.com", "password": PASSWORD, "is_admin": True},
        {"password": PASSWORD},
    ],
)
async def test_invalid_registration_is_422_and_creates_nothing(client, body):
    response = await client.post(f"{AUTH}/register", json=body)
    assert response.status_code == 422
    assert (await login(client)).status_code == 401


async def test_password_is_never_echoed_in_validation_errors(client):
    secret = "hunter2"  # too short: rejected, and must not come back
    response = await register(client, password=secret)
    assert response.status_code == 422
    assert secret not in response.text


async def test_login_returns_a_token_pair_that_opens_me(client):
    await register(client, name="Ada")
    response = await login(client, email="ADA@example.com")
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 3600
    assert tokens["refresh_token"]
    me = await client.get(f"{AUTH}/me", headers=bearer(tokens))
    assert me.status_code == 200
    assert me.json()["email"] == "ada@example.com"
    assert me.json()["name"] == "Ada"


async def test_wrong_password_and_unknown_email_get_the_same_401(client):
    await register(client)
    wrong = await login(client, password="wrong password!")
    unknown = await login(client, email="nobody@example.com")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.headers["www-authenticate"] == "Bearer"


def password_form(username="ada@example.com", password=PASSWORD, **extra) -> dict:
    return {"grant_type": "password", "username": username, "password": password, **extra}


async def test_token_endpoint_takes_the_oauth2_password_form(client):
    await register(client)
    response = await client.post(f"{AUTH}/token", data=password_form())
    assert response.status_code == 200, response.text
    assert (await client.get(f"{AUTH}/me", headers=bearer(response.json()))).status_code == 200
    refused = await client.post(f"{AUTH}/token", data=password_form(password="nope nope"))
    assert refused.status_code == 401


@pytest.mark.parametrize(
    "grant_type", [None, "", "client_credentials", "refresh_token", "PASSWORD"]
)
async def test_token_endpoint_takes_only_the_password_grant(client, grant_type):
    await register(client)
    form = password_form(grant_type=grant_type)
    if grant_type is None:
        del form["grant_type"]
    response = await client.post(f"{AUTH}/token", data=form)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"].startswith("unsupported_grant_type")


async def test_me_requires_a_token(client):
    response = await client.get(f"{AUTH}/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["detail"] == "Not authenticated"


async def test_unknown_refresh_token_is_401(client):
    response = await client.post(f"{AUTH}/refresh", json={"refresh_token": "made-up"})
    assert response.status_code == 401


async def test_logout_revokes_the_presented_session_only(client):
    await register(client)
    one = (await login(client)).json()
    two = (await login(client)).json()
    response = await client.post(
        f"{AUTH}/logout", json={"refresh_token": one["refresh_token"]}, headers=bearer(one)
    )
    assert response.status_code == 204
    assert response.content == b""
    assert (
        await client.post(f"{AUTH}/refresh", json={"refresh_token": one["refresh_token"]})
    ).status_code == 401
    assert (
        await client.post(f"{AUTH}/refresh", json={"refresh_token": two["refresh_token"]})
    ).status_code == 200


async def test_logout_all_revokes_every_session(client):
    await register(client)
    one = (await login(client)).json()
    two = (await login(client)).json()
    response = await client.post(f"{AUTH}/logout", json={"all": True}, headers=bearer(one))
    assert response.status_code == 204
    for tokens in (one, two):
        refused = await client.post(
            f"{AUTH}/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        assert refused.status_code == 401


async def test_logout_cannot_touch_another_users_session(client):
    await register(client)
    await register(client, email="bob@example.com")
    ada = (await login(client)).json()
    bob = (await login(client, email="bob@example.com")).json()
    await client.post(
        f"{AUTH}/logout", json={"refresh_token": ada["refresh_token"]}, headers=bearer(bob)
    )
    assert (
        await client.post(f"{AUTH}/refresh", json={"refresh_token": ada["refresh_token"]})
    ).status_code == 200


async def test_local_accounts_off_removes_account_routes(make_client):
    client = await make_client(tables={"auth": {"local_accounts": False}})
    for path in ("register", "login", "token", "refresh"):
        assert (await client.post(f"{AUTH}/{path}", json={})).status_code == 404
    assert (await client.get(f"{AUTH}/me")).status_code == 401


NUL_BODIES = {
    "register email": ("register", {"email": "a\x00@example.com", "password": PASSWORD}),
    "register name": (
        "register",
        {"email": "a@example.com", "password": PASSWORD, "name": "A\x00"},
    ),
    "register password": ("register", {"email": "a@example.com", "password": PASSWORD + "\x00"}),
    "login email": ("login", {"email": "ada@example.com\x00", "password": PASSWORD}),
    "login password": ("login", {"email": "ada@example.com", "password": "\x00" + PASSWORD}),
}


@pytest.mark.parametrize("case", NUL_BODIES)
async def test_a_nul_in_any_field_is_422_naming_it(client, case):
    await register(client)
    path, body = NUL_BODIES[case]
    response = await client.post(f"{AUTH}/{path}", json=body)
    assert response.status_code == 422, response.text
    field = next(name for name, value in body.items() if "\x00" in value)
    assert [error["loc"] for error in response.json()["errors"]] == [["body", field]]


@pytest.mark.parametrize("field", ["username", "password"])
async def test_a_nul_in_the_token_form_is_422(client, field):
    await register(client)
    form = password_form()
    form[field] += "\x00"
    response = await client.post(f"{AUTH}/token", data=form)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["body", field]
