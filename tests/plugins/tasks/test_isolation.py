"""Task: T-043
Spec: specs/features/plugins.md §Isolation

Another user's tasks are unreachable, on every route: the suite is generated from the app's
route table, so a route added later is covered without editing this file. And the kernel's
ownership mechanism itself: a query on an owned model without an owner is refused.
"""

import uuid

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from sqlalchemy import delete, insert, select, text, update

from app.core import Database, OwnershipError
from app.core.database import engine_options
from app.core.settings import StatementCache
from app.plugins.tasks.models import Task
from tests.plugins.tasks.conftest import TASKS, User

# A body valid for every task route that takes one, so validation cannot answer before
# the ownership check does.
HOSTILE_BODY = {"title": "hijacked", "completed": True, "tags": ["pwned"]}


def task_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every route of the app under /tasks, included routers flattened."""
    return sorted(
        (method, route.path)
        for route in iter_route_contexts(app.routes)
        if route.path and route.path.startswith(TASKS)
        for method in getattr(route, "methods", None) or ()
    )


@pytest.fixture
def routes(app_client) -> list[tuple[str, str]]:
    app = app_client._transport.app  # the ASGI app behind the test client
    found = task_routes(app)
    assert any("{task_id}" in path for _, path in found)
    return found


async def test_every_task_id_route_answers_404_to_another_user(routes, alice: User, bob: User, db):
    task = await alice.create(title="mine", description="private", tags=["a"])
    before = await db.fetchrow("SELECT * FROM tasks WHERE id = $1", task["id"])
    checked = 0
    for method, path in routes:
        if "{task_id}" not in path:
            continue
        url = path.replace("{task_id}", task["id"])
        for headers in ({}, {"If-Match": "*"}):
            response = await bob.request(method, url, json=HOSTILE_BODY, headers=headers)
            assert response.status_code == 404, (method, path, response.text)
            assert response.json()["detail"] == "Task not found"
        checked += 1
        assert await db.fetchrow("SELECT * FROM tasks WHERE id = $1", task["id"]) == before
    assert checked >= 5  # GET, PUT, PATCH, PATCH /complete, DELETE at least
    assert (await alice.get(f"{TASKS}/{task['id']}")).json() == task


async def test_every_list_route_holds_only_the_callers_tasks(routes, alice: User, bob: User):
    mine = {(await alice.create(title=f"alice {i}"))["id"] for i in range(3)}
    theirs = {(await bob.create(title=f"bob {i}"))["id"] for i in range(2)}
    lists = [path for method, path in routes if method == "GET" and "{" not in path]
    assert lists
    for path in lists:
        for params in ({}, {"q": "bob"}, {"limit": 1}, {"sort": "title"}):
            as_alice = await alice.get(path, params=params)
            assert as_alice.status_code == 200
            assert {t["id"] for t in as_alice.json()} <= mine
            assert all(t["user_id"] == alice.id for t in as_alice.json())
        assert {t["id"] for t in (await bob.get(path)).json()} == theirs


async def test_a_task_cannot_be_moved_to_another_user(alice: User, bob: User):
    task = await alice.create()
    response = await alice.patch(f"{TASKS}/{task['id']}", json={"user_id": bob.id})
    assert response.status_code == 422
    assert (await bob.get(TASKS)).json() == []


@pytest.fixture
async def database(database_url: str):
    database = await Database.open(engine_options(database_url), 2, StatementCache.auto)
    yield database
    await database.close()


async def test_owned_statements_without_an_owner_are_refused(database: Database, alice: User):
    await alice.create()
    for statement in (
        select(Task),
        select(Task.id),
        update(Task).values(title="x"),
        delete(Task),
        insert(Task).values(id="x", title="orphan"),
    ):
        with pytest.raises(OwnershipError):
            await database.execute(statement)


async def test_owned_executor_sees_and_changes_only_its_owners_rows(
    database: Database, alice: User, bob: User, db
):
    await alice.create(title="alice's")
    await bob.create(title="bob's")
    as_bob = database.owned(bob.id)
    assert [row["title"] for row in await as_bob.fetch(select(Task.title))] == ["bob's"]
    # An UPDATE without a WHERE clause still only reaches the owner's rows.
    await as_bob.execute(update(Task).values(title="changed"))
    await as_bob.execute(insert(Task).values(id=str(uuid.uuid4()), title="new"))
    for refused in (
        insert(Task).values(id=str(uuid.uuid4()), title="bulk", user_id=alice.id),
        text("UPDATE tasks SET title = 'raw'"),
    ):
        with pytest.raises(OwnershipError):
            await as_bob.execute(refused)
    titles = dict(await db.fetch("SELECT title, user_id FROM tasks"))
    assert titles == {"alice's": alice.id, "changed": bob.id, "new": bob.id}
