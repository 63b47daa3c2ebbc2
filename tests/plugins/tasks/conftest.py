"""Task: T-041
Spec: specs/api/rest-endpoints.md §Tasks

Fixtures for the tasks tests: an app with the tasks plugin on this test's database, and users
who call it with their own bearer token.

The auth plugin's register/login is not there yet, so users are `users` rows inserted here and
a test-only plugin (`TokenAuth`) vouches for `Bearer test-<user id>` through the kernel's
`authenticator` hook, exactly as the auth plugin will. Only `user_factory` knows this.
"""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import Context, Principal, hookimpl
from app.core.principal import Authenticator

TASKS = "/api/v1/tasks"
TOKEN_PREFIX = "test-"


class TokenAuth:
    """Test-only plugin: the token `test-<id>` is user `<id>`."""

    @hookimpl
    def authenticator(self, context: Context) -> Authenticator:
        async def authenticate(token: str, session: AsyncSession) -> Principal | None:
            if not token.startswith(TOKEN_PREFIX):
                return None
            return Principal(id=token.removeprefix(TOKEN_PREFIX))

        return authenticate


@dataclass
class User:
    """A signed-in user: requests carry their bearer token."""

    id: str
    http: httpx.AsyncClient

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {TOKEN_PREFIX}{self.id}", **kwargs.pop("headers", {})}
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
    return await make_client(extra={"testauth": TokenAuth()})


UserFactory = Callable[[], Awaitable[User]]


@pytest.fixture
def user_factory(app_client: httpx.AsyncClient, db: asyncpg.Connection) -> UserFactory:
    async def make() -> User:
        user_id = f"user-{uuid.uuid4().hex[:8]}"
        await db.execute(
            "INSERT INTO users (id, issuer, email) VALUES ($1, 'local', $2)",
            user_id,
            f"{user_id}@example.com",
        )
        return User(id=user_id, http=app_client)

    return make


@pytest.fixture
async def alice(user_factory: UserFactory) -> User:
    return await user_factory()


@pytest.fixture
async def bob(user_factory: UserFactory) -> User:
    return await user_factory()
