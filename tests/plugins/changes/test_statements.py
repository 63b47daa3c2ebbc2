"""Task: T-145
Spec: specs/api/rest-endpoints.md §One round trip, §Changes

What each request sends to PostgreSQL with the change feed on, counted at the driver: a plain
write is still one statement (the change log's trigger runs inside it), a subscriber makes it a
transaction, and a batch's statements do not grow with its operations.
"""

from collections.abc import Iterator, Sequence

import pytest
from asyncpg.connection import Connection
from sqlalchemy import literal, select

from app.core import Context, Executor, hookimpl
from app.plugins.tasks.api import COMPLETING, InTransaction, TaskChange
from tests.plugins.changes.conftest import QUIET
from tests.plugins.changes.test_events import Refusing
from tests.plugins.tasks.conftest import TASKS, User, sign_up


@pytest.fixture
def sent(monkeypatch) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    """The statements every asyncpg connection sends, in order."""
    statements: list[str] = []
    do_execute, execute = Connection._do_execute, Connection.execute

    async def counting_do_execute(self, query, *args, **kwargs):  # type: ignore[no-untyped-def]
        statements.append(query)
        return await do_execute(self, query, *args, **kwargs)

    async def counting_execute(self, query, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not args:  # with arguments it goes through _do_execute, counted there
            statements.append(query)
        return await execute(self, query, *args, **kwargs)

    monkeypatch.setattr(Connection, "_do_execute", counting_do_execute)
    monkeypatch.setattr(Connection, "execute", counting_execute)
    yield statements


# The built-ins without an in-transaction subscriber of tasks (recurring's is counted in
# tests/plugins/recurring/test_transactions.py).
PLAIN = tuple(name for name in QUIET if name != "recurring")


@pytest.fixture
async def alice(make_client) -> User:  # type: ignore[no-untyped-def]
    # Only the built-ins: no after-commit consumer sending statements of its own meanwhile.
    return await sign_up(await make_client(enabled=PLAIN))


def verbs(statements: list[str]) -> list[str]:
    return [statement.split()[0].rstrip(";").upper() for statement in statements]


async def test_plain_writes_stay_one_statement(alice, sent):
    task = await alice.create(title="counted")
    other = await alice.create(title="other")
    sent.clear()
    await alice.create(title="one more")
    await alice.patch(f"{TASKS}/{task['id']}", json={"title": "renamed"})
    await alice.patch(f"{TASKS}/{task['id']}/complete")
    await alice.delete(f"{TASKS}/{other['id']}")
    assert verbs(sent) == ["INSERT", "UPDATE", "UPDATE", "DELETE"]


async def test_an_in_transaction_subscriber_makes_a_write_a_transaction(make_client, sent):
    user = await sign_up(await make_client(enabled=PLAIN, extra={"refusing": Refusing()}))
    await user.create(title="first")  # the token's user is checked once
    sent.clear()
    await user.create(title="wrapped")
    assert verbs(sent) == ["BEGIN", "INSERT", "COMMIT"]


class Completions:
    """Wants completions only, as a recurring-tasks plugin would."""

    @hookimpl
    def task_subscriptions(self, context: Context) -> Sequence[InTransaction]:
        async def completed(db: Executor, change: TaskChange) -> None:
            await db.fetchval(select(literal(1)))

        return [InTransaction(completed, ops=frozenset({"update"}), fields=COMPLETING)]


async def test_only_the_writes_a_subscriber_wants_are_transactions(make_client, sent):
    extra = {"completions": Completions()}
    user = await sign_up(await make_client(enabled=PLAIN, extra=extra))
    task = await user.create(title="first")  # the token's user is checked once
    other = await user.create(title="other")
    sent.clear()
    await user.create(title="plain")
    await user.patch(f"{TASKS}/{task['id']}", json={"title": "renamed"})
    await user.delete(f"{TASKS}/{other['id']}")
    assert verbs(sent) == ["INSERT", "UPDATE", "DELETE"]
    sent.clear()
    await user.patch(f"{TASKS}/{task['id']}/complete")
    await user.patch(f"{TASKS}/{task['id']}", json={"completed": False})
    assert verbs(sent) == ["BEGIN", "UPDATE", "SELECT", "COMMIT"] * 2


async def test_a_batch_sends_one_statement_per_kind(alice, sent):
    tasks = [await alice.create(title=f"t{n}") for n in range(4)]
    sent.clear()
    creates = [{"op": "create", "task": {"title": f"new {n}"}} for n in range(100)]
    assert (await alice.post(f"{TASKS}/batch", json={"operations": creates})).status_code == 200
    assert verbs(sent) == ["BEGIN", "INSERT", "COMMIT"]
    sent.clear()
    mixed = [
        {"op": "update", "id": tasks[0]["id"], "changes": {"title": "x"}},
        {"op": "complete", "id": tasks[1]["id"]},
        {"op": "delete", "id": tasks[2]["id"]},
        {"op": "delete", "id": tasks[3]["id"], "if_match": '"stale.1"'},
        *creates[:10],
    ]
    response = await alice.post(f"{TASKS}/batch", json={"atomic": False, "operations": mixed})
    assert [r["status"] for r in response.json()["results"]][:4] == [200, 200, 204, 412]
    assert verbs(sent) == ["BEGIN", "INSERT", "UPDATE", "DELETE", "SELECT", "COMMIT"]


async def test_a_feed_page_is_one_statement(alice, sent):
    await alice.create(title="in the feed")
    sent.clear()
    assert (await alice.get("/api/v1/changes")).status_code == 200
    assert verbs(sent) == ["WITH"]
