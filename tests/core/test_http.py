"""Task: T-156
Spec: specs/api/rest-endpoints.md §HTTP

HTTP as a generic client expects it: `Allow` naming every method of a path, `HEAD` wherever
`GET` is, `OPTIONS`, no redirect for a trailing slash, `400` for a body that is not JSON, and
`errors` on every `422`.
"""

import pytest

from tests.plugins.tasks.conftest import TASKS, sign_up

PROBLEM = "application/problem+json"


@pytest.fixture
async def user(client):
    return await sign_up(client)


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", TASKS, "GET, HEAD, POST"),
        ("POST", f"{TASKS}/0", "DELETE, GET, HEAD, PATCH, PUT"),
        ("PUT", f"{TASKS}/0/complete", "PATCH"),
        ("GET", "/api/v1/auth/login", "POST"),
        ("HEAD", "/api/v1/auth/login", "POST"),
        ("POST", "/api/v1/health", "GET, HEAD"),
    ],
)
async def test_a_wrong_method_names_every_method_of_the_path(client, method, path, allow):
    response = await client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.headers["content-type"] == PROBLEM
    if method != "HEAD":
        assert response.json()["detail"] == "Method Not Allowed"


async def test_options_answers_the_allowed_methods(client):
    response = await client.options(TASKS)
    assert response.status_code == 204
    assert response.headers["allow"] == "GET, HEAD, POST"
    assert response.content == b""
    assert "x-request-id" in response.headers
    assert (await client.options("/api/v1/nowhere")).status_code == 404


async def test_head_is_get_without_the_body(client, user):
    for _ in range(3):
        await user.create()
    get = await user.get(TASKS, params={"limit": 2})
    head = await user.request("HEAD", TASKS, params={"limit": 2})
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    for name in ("content-type", "content-length", "link", "cache-control"):
        assert head.headers[name] == get.headers[name], name
    task = (await user.create())["id"]
    head = await user.request("HEAD", f"{TASKS}/{task}")
    assert head.status_code == 200 and head.headers["etag"] and head.content == b""
    assert (await client.head("/api/v1/health")).status_code == 200
    assert (await client.head(TASKS)).status_code == 401


async def test_a_trailing_slash_is_no_route_and_no_redirect(client, user):
    response = await user.get(f"{TASKS}/")
    assert response.status_code == 404
    assert "location" not in response.headers
    assert response.headers["content-type"] == PROBLEM


@pytest.mark.parametrize(
    "body", [b'{"title": ', b"not json", b'{"title": "caf\xe9"}'], ids=["cut", "text", "latin1"]
)
async def test_a_body_that_is_not_json_is_a_400(user, body):
    response = await user.post(TASKS, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == PROBLEM
    assert "errors" not in response.json()


async def test_every_422_lists_its_errors(user):
    too_many = await user.get(TASKS, params={"limit": 501})
    assert too_many.status_code == 422
    assert too_many.json()["errors"] == [
        {"loc": ["query", "limit"], "msg": "must be at most 500", "type": "less_than_equal"}
    ]
    cursor = await user.get(TASKS, params={"cursor": "garbage"})
    assert cursor.status_code == 422
    assert cursor.json()["errors"][0]["loc"] == ["query", "cursor"]
    key = await user.post(TASKS, json={"title": "t"}, headers={"Idempotency-Key": "x" * 256})
    assert key.status_code == 422
    assert key.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]


async def test_register_says_where_the_account_is(client):
    credentials = {"email": "ada@example.com", "password": "correct horse battery"}
    response = await client.post("/api/v1/auth/register", json=credentials)
    assert response.status_code == 201
    assert response.headers["location"] == "/api/v1/auth/me"
