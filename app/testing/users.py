"""Task: T-112, T-405
Spec: specs/features/plugins.md §Testing; specs/features/authentication.md §Testing with scopes

Users as the API sees them: registered and logged in through the auth plugin's routes, calling
with the access token they were given, so every request passes real token verification.
"""

import dataclasses
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

PASSWORD = "correct horse battery"


@dataclass
class ApiUser:
    """A signed-in user: every request carries their bearer token."""

    id: str
    email: str
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

    async def scoped(self: "U", *scopes: str) -> "U":
        """The same user calling with a new personal access token limited to `scopes`
        (`await user.scoped("tasks:read")`): to test a route with a token lacking a scope."""
        created = await self.post(
            "/api/v1/auth/tokens", json={"name": "test kit", "scopes": list(scopes)}
        )
        assert created.status_code == 201, f"create a token: {created.text}"
        return dataclasses.replace(self, token=created.json()["token"])


U = TypeVar("U", bound=ApiUser)
MakeUser = Callable[[], Awaitable[ApiUser]]


async def sign_up(http: httpx.AsyncClient, kind: type[U]) -> U:
    """A new account on the app behind `http`, registered and logged in through the auth
    plugin's API (which must be enabled), as a `kind` (ApiUser or a subclass of it)."""
    credentials = {"email": f"user-{uuid.uuid4().hex[:8]}@example.com", "password": PASSWORD}
    registered = await http.post("/api/v1/auth/register", json=credentials)
    assert registered.status_code == 201, f"register: {registered.text} (is `auth` enabled?)"
    login = await http.post("/api/v1/auth/login", json=credentials)
    assert login.status_code == 200, f"login: {login.text}"
    return kind(
        id=registered.json()["id"],
        email=credentials["email"],
        token=login.json()["access_token"],
        http=http,
    )
