"""Task: T-145
Spec: specs/api/rest-endpoints.md §One round trip, §Changes

What each request sends to PostgreSQL with the change feed on, counted at the driver (the kit's
`statements`: the request's own, never the job worker's): a plain
write is still one statement (the change log's trigger runs inside it), a subscriber makes it a
transaction, and a batch's statements do not grow with its operations.
"""

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress

import pytest
from fastapi import FastAPI
from sqlalchemy import literal, select

from app.core import Context, Executor, hookimpl
from app.plugins.tasks.api import COMPLETING, InTransaction, TaskChange
from tests.plugins.changes.conftest import QUIET
from tests.plugins.changes.test_events import Refusing
from tests.plugins.tasks.conftest import TASKS, User, plain_write_verbs, sign_up

# The built-ins without an in-transaction subscriber of tasks (recurring's is counted in
# tests/plugins/recurring/test_transactions.py).
PLAIN = tuple(name for name in QUIET if name != "recurring")


@pytest.fixture
async def alice(make_client) -> User:  # type: ignore[no-untyped-def]
    # Only the built-ins: no after-commit consumer sending statements of its own meanwhile.
    return await sign_up(await make_client(enabled=PLAIN))


async def test_plain_writes_stay_one_statement(alice, statements):
    assert await plain_write_verbs(alice, statements) == ["INSERT", "UPDATE", "UPDATE", "DELETE"]


async def test_an_in_transaction_subscriber_makes_a_write_a_transaction(make_client, statements):
    user = await sign_up(await make_client(enabled=PLAIN, extra={"refusing": Refusing()}))
    await user.create(title="first")  # the token's user is checked once
    statements.clear()
    await user.create(title="wrapped")
    assert statements.verbs() == ["BEGIN", "INSERT", "COMMIT"]


class Completions:
    """Wants completions only, as a recurring-tasks plugin would."""

    @hookimpl
    def task_subscriptions(self, context: Context) -> Sequence[InTransaction]:
        async def completed(db: Executor, change: TaskChange) -> None:
            await db.fetchval(select(literal(1)))

        return [InTransaction(completed, ops=frozenset({"update"}), fields=COMPLETING)]


async def test_only_the_writes_a_subscriber_wants_are_transactions(make_client, statements):
    extra = {"completions": Completions()}
    user = await sign_up(await make_client(enabled=PLAIN, extra=extra))
    task = await user.create(title="first")  # the token's user is checked once
    other = await user.create(title="other")
    statements.clear()
    await user.create(title="plain")
    await user.patch(f"{TASKS}/{task['id']}", json={"title": "renamed"})
    await user.delete(f"{TASKS}/{other['id']}")
    assert statements.verbs() == ["INSERT", "UPDATE", "DELETE"]
    statements.clear()
    await user.patch(f"{TASKS}/{task['id']}/complete")
    await user.patch(f"{TASKS}/{task['id']}", json={"completed": False})
    assert statements.verbs() == ["BEGIN", "UPDATE", "SELECT", "COMMIT"] * 2


async def test_a_batch_sends_one_statement_per_kind(alice, statements):
    tasks = [await alice.create(title=f"t{n}") for n in range(4)]
    statements.clear()
    creates = [{"op": "create", "task": {"title": f"new {n}"}} for n in range(100)]
    assert (await alice.post(f"{TASKS}/batch", json={"operations": creates})).status_code == 200
    assert statements.verbs() == ["BEGIN", "INSERT", "COMMIT"]
    statements.clear()
    mixed = [
        {"op": "update", "id": tasks[0]["id"], "changes": {"title": "x"}},
        {"op": "complete", "id": tasks[1]["id"]},
        {"op": "delete", "id": tasks[2]["id"]},
        {"op": "delete", "id": tasks[3]["id"], "if_match": '"stale.1"'},
        *creates[:10],
    ]
    response = await alice.post(f"{TASKS}/batch", json={"atomic": False, "operations": mixed})
    assert [r["status"] for r in response.json()["results"]][:4] == [200, 200, 204, 412]
    assert statements.verbs() == ["BEGIN", "INSERT", "UPDATE", "DELETE", "SELECT", "COMMIT"]


async def test_a_feed_page_is_one_statement(alice, statements):
    await alice.create(title="in the feed")
    statements.clear()
    assert (await alice.get("/api/v1/changes")).status_code == 200
    assert statements.verbs() == ["WITH"]


class Busy:
    """Background work on the app's pool, all the time, as the job worker's polling is."""

    def __init__(self) -> None:
        self.sent = 0

    @hookimpl
    def lifespan(self, context: Context) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
        @asynccontextmanager
        async def working(app: FastAPI) -> AsyncIterator[None]:
            async def poll() -> None:
                while True:
                    await app.state.database.fetchval(select(literal(1)))
                    self.sent += 1
                    await asyncio.sleep(0)

            poller = asyncio.create_task(poll())
            try:
                yield
            finally:
                poller.cancel()
                with suppress(asyncio.CancelledError):
                    await poller

        return working


async def test_only_the_request_is_counted_not_the_apps_background_work(make_client, statements):
    busy = Busy()
    user = await sign_up(await make_client(enabled=PLAIN, extra={"zz_test_busy": busy}))
    await user.create(title="first")  # the token's user is checked once
    statements.clear()
    before = busy.sent
    await user.create(title="counted")
    await user.get(TASKS)
    assert busy.sent > before  # the background work went on meanwhile
    assert statements.verbs() == ["INSERT", "SELECT"]
