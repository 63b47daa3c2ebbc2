"""Task: T-187
Spec: specs/features/reminders.md §Testing

Fixtures for the reminders tests: apps (instances) with the reminders plugin on this test's
database — with a job worker polling fast and a sweep every second, or with no worker at all,
so that only the test fires reminders — users signed up on them, and helpers to wait and to
move an instance's clock.
"""

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from app.core.plugins.plugins_file import DEFAULT_ENABLED
from app.plugins.reminders.firing import Reminders
from app.testing import ApiUser, AppClient, sign_up
from app.testing.plugin import AppMaker

ENABLED = DEFAULT_ENABLED
TASKS = "/api/v1/tasks"
INBOX = "/api/v1/reminders/inbox"
# A worker that polls often and a lease of a second; the sweep every second.
FAST = {
    "jobs": {"lease_seconds": 1, "poll_seconds": 0.2},
    "reminders": {"sweep_cron": "* * * * * *"},
    "changes": {"poll_seconds": 0.2},
}
# No worker: nothing fires but what the test fires.
QUIET = {"jobs": {"worker": False}, "changes": {"poll_seconds": 0.2}}

Instance = Callable[..., Awaitable[AppClient]]


@pytest.fixture
def start_instance(make_client: AppMaker) -> Instance:
    """`await start_instance(worker=True)`: an app with the reminders plugin."""

    async def start(worker: bool = True, **tables: dict[str, Any]) -> AppClient:
        settings = {**(FAST if worker else QUIET)}
        for name, values in tables.items():
            settings[name] = {**settings.get(name, {}), **values}
        return await make_client(enabled=ENABLED, tables=settings)

    return start


@pytest.fixture
async def quiet(start_instance: Instance) -> AppClient:
    return await start_instance(worker=False)


@pytest.fixture
def user_of() -> Callable[[AppClient], Awaitable[ApiUser]]:
    async def make(client: AppClient) -> ApiUser:
        return await sign_up(client, ApiUser)

    return make


def state(client: AppClient) -> Reminders:
    reminders = client.app.state.context.state["reminders"]
    assert isinstance(reminders, Reminders)
    return reminders


def move_clock(by: timedelta, *clients: AppClient) -> None:
    for client in clients:
        state(client).clock.offset += by


async def new_task(user: ApiUser, **fields: Any) -> dict[str, Any]:
    response = await user.post(TASKS, json={"title": "Water the plants", **fields})
    assert response.status_code == 201, response.text
    return dict(response.json())


def reminders_of(task_id: str) -> str:
    return f"{TASKS}/{task_id}/reminders"


async def add_reminder(user: ApiUser, task_id: str, **body: Any) -> dict[str, Any]:
    response = await user.post(reminders_of(task_id), json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())
