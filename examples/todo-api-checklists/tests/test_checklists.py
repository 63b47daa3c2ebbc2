"""Task: T-124
Spec: specs/features/plugins.md §Writing a plugin, §Isolation

The checklists plugin, through its API, on a real PostgreSQL (the todo-api test kit).
"""

from collections.abc import Awaitable, Callable

import asyncpg
import pytest
from fastapi import FastAPI

from app.core import ConfigError
from app.testing import ApiUser, AppClient, MakeUser, assert_isolated


async def new_task(user: ApiUser) -> str:
    response = await user.post("/api/v1/tasks", json={"title": "pack"})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def items(task_id: str) -> str:
    return f"/api/v1/tasks/{task_id}/items"


async def create(user: ApiUser) -> dict[str, str]:
    """A new item on a new task of `user`; the path parameters that locate it."""
    task_id = await new_task(user)
    response = await user.post(items(task_id), json={"title": "socks"})
    assert response.status_code == 201, response.text
    return {"task_id": task_id, "item_id": response.json()["id"]}


async def test_a_tasks_items(make_user: MakeUser) -> None:
    user = await make_user()
    task_id = await new_task(user)
    assert (await user.get(items(task_id))).json() == []
    socks = (await user.post(items(task_id), json={"title": "socks"})).json()
    tent = (await user.post(items(task_id), json={"title": "tent", "done": True})).json()
    assert socks["task_id"] == task_id and socks["created_at"].endswith("Z")
    assert (await user.get(items(task_id))).json() == [socks, tent]

    changed = await user.patch(f"{items(task_id)}/{socks['id']}", json={"done": True})
    assert changed.json() == {**socks, "done": True}
    assert (await user.delete(f"{items(task_id)}/{tent['id']}")).status_code == 204
    assert [item["id"] for item in (await user.get(items(task_id))).json()] == [socks["id"]]
    # An item is found under its own task only.
    other = await new_task(user)
    assert (await user.get(f"{items(other)}/{socks['id']}")).status_code == 404


async def test_items_go_with_their_task(
    make_user: MakeUser, db: "asyncpg.Connection[asyncpg.Record]"
) -> None:
    user = await make_user()
    found = await create(user)
    assert (await user.delete(f"/api/v1/tasks/{found['task_id']}")).status_code == 204
    assert (await user.get(items(found["task_id"]))).status_code == 404
    assert await db.fetchval("SELECT count(*) FROM checklist_items") == 0


async def test_no_item_can_be_attached_to_another_users_task(
    make_user: MakeUser, db: "asyncpg.Connection[asyncpg.Record]"
) -> None:
    alice, bob = await make_user(), await make_user()
    task_id = await new_task(alice)
    response = await bob.post(items(task_id), json={"title": "mine now"})
    assert response.status_code == 404
    assert response.json()["detail"] == "Task not found"
    assert await db.fetchval("SELECT count(*) FROM checklist_items") == 0
    assert (await bob.post(items("no-such-task"), json={"title": "x"})).status_code == 404


async def test_routes_need_a_token(client: AppClient) -> None:
    response = await client.get(items("any"))
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


async def test_it_needs_the_tasks_plugin(make_client: Callable[..., Awaitable[AppClient]]) -> None:
    with pytest.raises(ConfigError, match="plugin 'checklists' requires 'tasks'"):
        await make_client(enabled=("health", "auth", "checklists"))


async def test_another_user_can_neither_see_nor_change_them(
    app: FastAPI, make_user: MakeUser
) -> None:
    checked = await assert_isolated(
        app,
        await make_user(),
        await make_user(),
        plugin="checklists",
        create=create,
        body={"title": "hijacked", "done": True},
    )
    # Listing and adding items, and GET, PATCH and DELETE of one: every route has {task_id}.
    assert len(checked.unreachable) == 5
    assert checked.lists == ["/api/v1/tasks/{task_id}/items"]
