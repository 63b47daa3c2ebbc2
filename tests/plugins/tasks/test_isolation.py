"""Task: T-043, T-113, T-362
Spec: specs/features/plugins.md §Isolation; specs/features/sharing.md §Testing

Another user's tasks are unreachable, on every route: the test kit's `assert_isolated` is
generated from the app's route table, so a route added later is covered without editing this
file; with the role check, a viewer of the lists reads and is refused every write, and once
removed finds nothing again. And the kernel's ownership mechanism itself: a query on an owned model without an owner
is refused.
"""

import uuid

import pytest
from sqlalchemy import delete, insert, select, text, update

from app.core import Database, OwnershipError
from app.core.db.urls import engine_options
from app.core.settings import StatementCache
from app.plugins.tasks.models import Task
from app.testing import assert_isolated
from tests.plugins.tasks.conftest import TASKS, User
from tests.plugins.tasks.sharing import not_found, sharing, sharing_bodies, sharing_values

LISTS = "/api/v1/lists"

# A body valid for every task route that takes one, so validation cannot answer before
# the ownership check does.
HOSTILE_BODY = {"title": "hijacked", "completed": True, "tags": ["pwned"]}


async def test_every_task_route_keeps_tasks_to_their_owner(app, alice: User, bob: User, db):
    async def create(user: User) -> dict[str, str]:
        made = await user.post(LISTS, json={"name": f"{user.email} list"})
        task = await user.create(
            title=f"{user.email} task", description="private", tags=["a"], list_id=made.json()["id"]
        )
        lists = (await user.get(LISTS)).json()
        default = next(item["id"] for item in lists if item["is_default"])
        # The default list too: made with the first list, it is the user's as much.
        list_id = made.json()["id"]
        return {
            "task_id": task["id"],
            "list_id": list_id,
            "default": default,
            **await sharing_values(user, list_id),
        }

    share, unshare = sharing(db)

    checked = await assert_isolated(
        app,
        alice,
        bob,
        plugin="tasks",
        create=create,
        body=HOSTILE_BODY,
        # The moves take a place (the intruder's own list as the target: still a 404), the
        # lists a name.
        bodies={
            f"{TASKS}/{{task_id}}/move": {"after": None},
            f"{LISTS}/{{list_id}}/move": {"before": None},
            f"{LISTS}/{{list_id}}": {"name": "hijacked"},
            **sharing_bodies(bob),
        },
        headers=({}, {"If-Match": "*"}),  # a precondition cannot open another user's task
        detail=not_found,
        list_params=({}, {"q": "bob"}, {"limit": 1}, {"sort": "title"}),
        rows=3,
        share=share,
        unshare=unshare,
        leaves={f"{LISTS}/{{list_id}}/members/me"},
    )
    # Every {task_id} route answered 404 to bob and left alice's tasks byte-for-byte unchanged.
    assert {path for _, path in checked.unreachable} == {
        f"{TASKS}/{{task_id}}",
        f"{TASKS}/{{task_id}}/complete",
        f"{TASKS}/{{task_id}}/move",
        f"{LISTS}/{{list_id}}",
        f"{LISTS}/{{list_id}}/move",
        f"{LISTS}/{{list_id}}/members",
        f"{LISTS}/{{list_id}}/members/me",
        f"{LISTS}/{{list_id}}/members/{{member_id}}",
        f"{LISTS}/{{list_id}}/transfer",
        f"{LISTS}/{{list_id}}/invitations",
        f"{LISTS}/{{list_id}}/invitations/{{invitation_id}}",
        "/api/v1/invitations/{token}/accept",
    }
    assert len(checked.unreachable) >= 10  # GET, PUT, PATCH, PATCH /complete, DELETE, move …
    # The list routes held only the caller's tasks and lists, all of them.
    assert sorted(checked.lists) == [LISTS, f"{LISTS}/{{list_id}}/invitations", TASKS]
    for user in (alice, bob):
        tasks = {t["id"] for t in (await user.get(TASKS)).json()}
        lists = {item["id"] for item in (await user.get(LISTS)).json()}
        invitations = set()
        for list_id in lists:
            shown = await user.get(f"{LISTS}/{list_id}/invitations")
            invitations |= {item["id"] for item in shown.json()}
        tokens = {value for value in checked.created[user.id] if len(value) == 43}
        assert tasks | lists | invitations | {user.id} | tokens == checked.created[user.id]
    # The role check: bob, a viewer of alice's lists, read the list and its task and got 403 on
    # every write, changing nothing; removed, every route was a 404 again.
    reads = [("GET", f"{LISTS}/{{list_id}}"), ("GET", f"{TASKS}/{{task_id}}")]
    # The role check: bob, a viewer of alice's lists, read the list, its members and its task
    # and got 403 on every write, changing nothing (a revoked invitation's token names nothing:
    # 404); an editor got 403 from the owner's routes; bob left by `members/me`; removed, every
    # route was a 404 again.
    reads = [
        ("GET", f"{LISTS}/{{list_id}}"),
        ("GET", f"{LISTS}/{{list_id}}/members"),
        ("GET", f"{TASKS}/{{task_id}}"),
    ]
    accept = ("POST", "/api/v1/invitations/{token}/accept")
    leave = ("DELETE", f"{LISTS}/{{list_id}}/members/me")
    assert checked.readable == reads
    assert set(checked.forbidden) == set(checked.unreachable) - {*reads, accept, leave}
    assert checked.personal == [accept]
    assert checked.own == []
    assert checked.left == [leave]
    assert {path for _, path in checked.owner_only} >= {
        f"{LISTS}/{{list_id}}/members/{{member_id}}",
        f"{LISTS}/{{list_id}}/invitations",
        f"{LISTS}/{{list_id}}/transfer",
    }
    assert checked.revoked == checked.unreachable


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
