"""Task: T-041
Spec: specs/api/rest-endpoints.md §Tasks

Users of the tasks API: the test kit's signed-in users (registered and logged in through the
auth plugin, calling with their access token: every request passes real JWT verification),
with a shortcut to create a task, on an app of the built-ins without after-commit consumers.
"""

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from app.core.plugins.plugins_file import DEFAULT_ENABLED
from app.testing import ApiUser, Statements
from app.testing import sign_up as sign_up_as
from app.testing.plugin import AppMaker

TASKS = "/api/v1/tasks"
# The built-ins without an after-commit consumer (reminders', webhooks'): a consumer's
# statements would be counted with a test's, and its transaction, open when a test reads the
# change feed, holds newer changes back.
QUIET = tuple(name for name in DEFAULT_ENABLED if name not in {"reminders", "webhooks"})


class User(ApiUser):
    async def create(self, **fields: Any) -> dict[str, Any]:
        response = await self.post(TASKS, json={"title": "a task", **fields})
        assert response.status_code == 201, response.text
        return response.json()


async def sign_up(client: httpx.AsyncClient) -> User:
    return await sign_up_as(client, User)


async def plain_write_verbs(user: User, statements: Statements) -> list[str]:
    """The statements a create, a PATCH, a complete and a delete of `user`'s send, in order
    (after two creates that warm the connection and the token's check)."""
    task = await user.create(title="counted")
    other = await user.create(title="other")
    statements.clear()
    await user.create(title="one more")
    await user.patch(f"{TASKS}/{task['id']}", json={"title": "renamed"})
    await user.patch(f"{TASKS}/{task['id']}/complete")
    await user.delete(f"{TASKS}/{other['id']}")
    return statements.verbs()


UserFactory = Callable[[], Awaitable[User]]


@pytest.fixture
async def client(make_client: AppMaker) -> httpx.AsyncClient:
    return await make_client(enabled=QUIET)


@pytest.fixture
def user_factory(client: httpx.AsyncClient) -> UserFactory:
    return lambda: sign_up(client)


@pytest.fixture
async def alice(user_factory: UserFactory) -> User:
    return await user_factory()


@pytest.fixture
async def bob(user_factory: UserFactory) -> User:
    return await user_factory()
