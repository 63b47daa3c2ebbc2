"""Task: T-138
Spec: specs/features/plugins.md §Events

In-transaction subscribers: they run inside the writing transaction, may write, and roll the
write back when they fail; without one, a write is not wrapped in a transaction at all.
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import HTTPException

from app.core import ConfigError, Context, Database, Executor, hookimpl
from app.plugins.changes.api import AfterCommit, consumers
from app.plugins.tasks.api import InTransaction, TaskChange, TaskWrites, new_task
from app.plugins.tasks.queries import CREATE
from tests.plugins.changes.conftest import QUIET, feed
from tests.plugins.tasks.conftest import TASKS, sign_up


class Daily:
    """Completing a task tagged `daily` creates its next occurrence, in the same transaction."""

    @hookimpl
    def task_subscriptions(self, context: Context) -> Sequence[InTransaction]:
        async def next_occurrence(db: Executor, change: TaskChange) -> None:
            task = change.data
            if change.op != "update" or not task or not task["completed"]:
                return
            if "daily" not in task["tags"]:
                return
            due = datetime.fromisoformat(task["due_at"]) + timedelta(days=1)
            values = {"title": task["title"], "description": None, "completed": False}
            values |= {"priority": task["priority"], "due_at": due, "tags": task["tags"]}
            assert db.owner is not None
            await db.execute(CREATE, **new_task(values, db.owner, datetime.now(UTC)))

        return [InTransaction(next_occurrence)]


class Refusing:
    """Refuses any write that would title a task `forbidden`, after the write was sent."""

    @hookimpl
    def task_subscriptions(self, context: Context) -> Sequence[InTransaction]:
        async def refuse(db: Executor, change: TaskChange) -> None:
            if change.data and change.data["title"] == "forbidden":
                raise HTTPException(409, "refused by a subscriber")

        return [InTransaction(refuse)]


async def test_a_subscriber_writes_in_the_writing_transaction(make_client, db):
    # The built-ins only: the notes example's journal would add its own change meanwhile.
    user = await sign_up(await make_client(enabled=QUIET, extra={"daily": Daily()}))
    task = await user.create(title="water plants", tags=["daily"], due_at="2030-01-01T08:00:00Z")
    _, cursor = await feed(user)
    assert (await user.patch(f"{TASKS}/{task['id']}/complete")).status_code == 200

    tasks = (await user.get(TASKS)).json()
    (following,) = [t for t in tasks if t["id"] != task["id"]]
    assert following["due_at"] == "2030-01-02T08:00:00Z" and not following["completed"]
    entries, _ = await feed(user, cursor)
    assert [(e["id"], e["op"]) for e in entries] == [
        (task["id"], "update"),
        (following["id"], "create"),
    ]
    # One transaction wrote both.
    assert await db.fetchval("SELECT count(DISTINCT xid) FROM changes WHERE op = 'update'") == 1
    assert (
        await db.fetchval(
            "SELECT count(*) FROM changes c WHERE xid = (SELECT xid FROM changes WHERE op = 'update')"
        )
        == 2
    )


async def test_a_failing_subscriber_rolls_the_write_back(make_client):
    user = await sign_up(await make_client(extra={"refusing": Refusing()}))
    task = await user.create(title="allowed")
    _, cursor = await feed(user)

    refused = await user.patch(f"{TASKS}/{task['id']}", json={"title": "forbidden"})
    assert refused.status_code == 409 and refused.json()["detail"] == "refused by a subscriber"
    assert (await user.get(f"{TASKS}/{task['id']}")).json() == task
    assert (await user.post(TASKS, json={"title": "forbidden"})).status_code == 409
    assert len((await user.get(TASKS)).json()) == 1
    assert (await feed(user, cursor))[0] == []


async def test_without_in_transaction_subscribers_a_write_opens_no_transaction(monkeypatch):
    def no_transaction(self: Database) -> None:
        raise AssertionError("a plain write must not open a transaction")

    monkeypatch.setattr(Database, "transaction", no_transaction)
    owned = Database(pool=None).owned("someone")  # type: ignore[arg-type]
    async with TaskWrites([]).unit(owned) as unit:
        assert unit.db.owner == "someone"
        await unit.tell("create", {"id": "id", "title": "x", "version": 1})  # nobody: nothing


def test_consumer_names_are_unique():
    async def handle(transaction, changes):  # type: ignore[no-untyped-def]
        return None

    twice = [AfterCommit("same", frozenset({"tasks"}), handle)] * 2
    with pytest.raises(ConfigError, match="'same' is used twice"):
        consumers(twice)
