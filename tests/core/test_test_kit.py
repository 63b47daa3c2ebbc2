"""Task: T-113
Spec: specs/features/plugins.md §Testing

The kit's isolation check fails a plugin that leaks: a route that reads or changes another
user's row through plain SQL on the unscoped database, or a list that shows every user's rows.
"""

from collections.abc import Sequence

import pytest
from fastapi import APIRouter, HTTPException
from sqlalchemy import bindparam, text

from app.core import DB, Context, hookimpl
from app.testing import ApiUser, assert_isolated, sign_up

TASKS = "/api/v1/tasks"
# Plain SQL through the unscoped `DB`: exactly what §Isolation says never to do for user data.
GET = text("SELECT id, user_id, title FROM tasks WHERE id = :id").bindparams(bindparam("id"))
RENAME = text("UPDATE tasks SET title = 'renamed' WHERE id = :id")
EVERYONE = text("SELECT id, user_id, title FROM tasks")


class Leaky:
    """`/leaky/{task_id}` reads and renames any task; `/leaky` lists everyone's."""

    def __init__(self, *, reads: bool = False, writes: bool = False, lists: bool = False):
        self.reads, self.writes, self.lists = reads, writes, lists

    @hookimpl
    def routers(self, context: Context) -> Sequence[APIRouter]:
        router = APIRouter(prefix="/leaky")

        @router.get("/{task_id}")
        async def read(task_id: str, db: DB) -> dict[str, str]:
            row = await db.fetchrow(GET, id=task_id) if self.reads else None
            if row is None:
                raise HTTPException(404, "Not found")
            return dict(row)

        @router.post("/{task_id}/rename", status_code=404)
        async def rename(task_id: str, db: DB) -> None:
            if self.writes:
                await db.execute(RENAME, id=task_id)
            raise HTTPException(404, "Not found")  # says 404, yet changed the row

        @router.get("")
        async def everything(db: DB) -> list[dict[str, str]]:
            rows = await db.fetch(EVERYONE) if self.lists else []
            return [dict(row) for row in rows]

        return [router]


async def create(user: ApiUser) -> dict[str, str]:
    response = await user.post(TASKS, json={"title": "mine"})
    assert response.status_code == 201
    return {"task_id": response.json()["id"]}


@pytest.mark.parametrize(
    ("leak", "message"),
    [
        ({"reads": True}, "GET"),
        # The leak changed Bob's task, and with it the change log's record of his tasks.
        ({"writes": True}, "changed changes, tasks"),
        ({"lists": True}, "/api/v1/leaky"),
    ],
)
async def test_a_leaking_route_fails_the_check(make_client, leak, message):
    client = await make_client(extra={"leaky": Leaky(**leak)})
    alice, bob = await sign_up(client, ApiUser), await sign_up(client, ApiUser)
    with pytest.raises(AssertionError, match=message):
        await assert_isolated(client.app, alice, bob, plugin="leaky", create=create)


async def test_a_plugin_that_keeps_rows_apart_passes(make_client):
    client = await make_client(extra={"leaky": Leaky()})
    alice, bob = await sign_up(client, ApiUser), await sign_up(client, ApiUser)
    checked = await assert_isolated(client.app, alice, bob, plugin="leaky", create=create)
    assert checked.unreachable == [
        ("GET", "/api/v1/leaky/{task_id}"),
        ("POST", "/api/v1/leaky/{task_id}/rename"),
    ]
    assert checked.lists == []  # the list route showed nothing: nothing to vouch for


async def test_make_user_signs_up_with_a_real_token(make_user, client):
    user = await make_user()
    assert (await user.get(TASKS)).status_code == 200
    assert (await client.get(TASKS)).status_code == 401
