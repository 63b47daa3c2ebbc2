"""Task: T-176
Spec: specs/features/recurring.md §Testing

Users of the recurring API: the tasks tests' signed-in users, with shortcuts to make a task
recur and to find the occurrences of a series.
"""

from typing import Any

import httpx
import pytest

from app.testing import sign_up as sign_up_as
from tests.plugins.tasks.conftest import QUIET, TASKS, User

# The built-ins (recurring among them) without after-commit consumers working meanwhile: the
# statements a write sends are counted.
ENABLED = QUIET


class Recurring(User):
    async def recurring(
        self, rule: str, due_at: str, timezone: str = "Europe/Berlin", **fields: Any
    ) -> dict[str, Any]:
        task = await self.create(due_at=due_at, **fields)
        response = await self.put(
            f"{TASKS}/{task['id']}/recurrence", json={"rule": rule, "timezone": timezone}
        )
        assert response.status_code == 200, response.text
        return task

    async def complete(self, task_id: str) -> dict[str, Any]:
        response = await self.patch(f"{TASKS}/{task_id}/complete")
        assert response.status_code == 200, response.text
        return response.json()

    async def tasks(self) -> list[dict[str, Any]]:
        response = await self.get(TASKS, params={"sort": "due_at", "limit": 500})
        assert response.status_code == 200, response.text
        return response.json()

    async def recurrence(self, task_id: str) -> httpx.Response:
        return await self.get(f"{TASKS}/{task_id}/recurrence")


async def make(client: httpx.AsyncClient) -> Recurring:
    return await sign_up_as(client, Recurring)


@pytest.fixture
async def client(make_client) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    return await make_client(enabled=ENABLED)


@pytest.fixture
async def alice(client: httpx.AsyncClient) -> Recurring:
    return await make(client)


@pytest.fixture
async def bob(client: httpx.AsyncClient) -> Recurring:
    return await make(client)
