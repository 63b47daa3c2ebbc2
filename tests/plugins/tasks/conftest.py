"""Task: T-041
Spec: specs/api/rest-endpoints.md §Tasks

Fixtures for the tasks tests: an app with every built-in plugin on this test's database, and
users who registered and logged in through the auth plugin's API, calling with the access token
they were given: every request below passes through real JWT verification.
"""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import make_url

TASKS = "/api/v1/tasks"
PASSWORD = "correct horse battery"


@dataclass
class User:
    """A signed-in user: requests carry their bearer token."""

    id: str
    token: str
    http: httpx.AsyncClient

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return await self.http.request(method, url, headers=headers, **kwargs)

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", url, **kwargs)

    async def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("PUT", url, **kwargs)

    async def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("PATCH", url, **kwargs)

    async def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("DELETE", url, **kwargs)

    async def create(self, **fields: Any) -> dict[str, Any]:
        response = await self.post(TASKS, json={"title": "a task", **fields})
        assert response.status_code == 201, response.text
        return response.json()


def libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A direct connection to this test's database, to look behind the API."""
    connection = await asyncpg.connect(libpq_url(database_url))
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture
async def app_client(make_client: Callable[..., Awaitable[httpx.AsyncClient]]) -> httpx.AsyncClient:
    return await make_client()


UserFactory = Callable[[], Awaitable[User]]


async def sign_up(client: httpx.AsyncClient) -> User:
    """A new account, registered and logged in through the auth plugin's API."""
    credentials = {"email": f"user-{uuid.uuid4().hex[:8]}@example.com", "password": PASSWORD}
    registered = await client.post("/api/v1/auth/register", json=credentials)
    assert registered.status_code == 201, registered.text
    login = await client.post("/api/v1/auth/login", json=credentials)
    assert login.status_code == 200, login.text
    return User(id=registered.json()["id"], token=login.json()["access_token"], http=client)


@pytest.fixture
def user_factory(app_client: httpx.AsyncClient) -> UserFactory:
    return lambda: sign_up(app_client)


@pytest.fixture
async def alice(user_factory: UserFactory) -> User:
    return await user_factory()


@pytest.fixture
async def bob(user_factory: UserFactory) -> User:
    return await user_factory()
