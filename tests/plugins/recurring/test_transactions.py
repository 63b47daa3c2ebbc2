"""Task: T-179
Spec: specs/features/recurring.md §Completion, §Cost, §Disabling

The next occurrence is made in the completing transaction: a failure rolls the completion back;
what a write costs with the plugin enabled, counted at the driver; and the plugin disabled
leaves its data and stops making occurrences.
"""

from collections.abc import Sequence

from fastapi import HTTPException

from app.core import Context, Executor, hookimpl
from app.plugins.tasks.api import InTransaction, TaskChange
from tests.plugins.recurring.conftest import ENABLED, make
from tests.plugins.tasks.conftest import TASKS

DUE = "2026-05-01T07:00:00Z"


class RefusingTheNextOccurrence:
    """Hears the occurrence made (a create in the same transaction) and refuses it."""

    @hookimpl
    def task_subscriptions(self, context: Context) -> Sequence[InTransaction]:
        async def refuse(db: Executor, change: TaskChange) -> None:
            task = change.data
            if change.op == "create" and task and task["title"] == "refused next":
                # The first occurrence's create passes; the one made on completion does not.
                if_next = str(task["due_at"]).startswith("2026-05-02")
                if if_next:
                    raise HTTPException(409, "refused by a subscriber")

        return [InTransaction(refuse)]


async def test_a_failure_while_making_the_next_occurrence_rolls_the_completion_back(
    make_client, db
):
    client = await make_client(enabled=ENABLED, extra={"refusing": RefusingTheNextOccurrence()})
    alice = await make(client)
    task = await alice.recurring("FREQ=DAILY", DUE, title="refused next")
    before = await db.fetchval("SELECT count(*) FROM changes")
    refused = await alice.patch(f"{TASKS}/{task['id']}/complete")
    assert refused.status_code == 409
    assert (await alice.get(f"{TASKS}/{task['id']}")).json() == task  # not completed
    assert len(await alice.tasks()) == 1
    assert (await alice.recurrence(task["id"])).json()["successor_id"] is None
    assert await db.fetchval("SELECT count(*) FROM changes") == before


async def test_what_a_write_costs_with_recurring_enabled(client, statements):
    alice = await make(client)
    plain = await alice.create(title="plain", due_at=DUE)
    recurring = await alice.recurring("FREQ=DAILY", DUE)
    undated = await alice.create(title="undated")
    statements.clear()
    await alice.create(title="one more")
    creating = statements.verbs()
    statements.clear()
    await alice.patch(f"{TASKS}/{plain['id']}", json={"title": "renamed"})
    renaming = statements.verbs()
    statements.clear()
    await alice.complete(undated["id"])
    completing_undated = statements.verbs()
    statements.clear()
    await alice.complete(plain["id"])
    completing_plain = statements.verbs()
    statements.clear()
    await alice.complete(recurring["id"])
    completing_recurring = statements.verbs()
    statements.clear()
    await alice.delete(f"{TASKS}/{plain['id']}")
    deleting = statements.verbs()
    # The plugin wants completions only: every other write stays one statement.
    assert creating == ["INSERT"]
    assert renaming == ["UPDATE"]
    assert deleting == ["DELETE"]
    # A completion: the lookup only for a task with a due_at; the spawn only for one that recurs.
    assert completing_undated == ["BEGIN", "UPDATE", "COMMIT"]
    assert completing_plain == ["BEGIN", "UPDATE", "SELECT", "COMMIT"]
    assert completing_recurring == ["BEGIN", "UPDATE", "SELECT", "WITH", "COMMIT"]


async def test_disabled_the_app_starts_the_data_stays_and_nothing_recurs(make_client, db):
    enabled = await make_client(enabled=ENABLED)
    alice = await make(enabled)
    task = await alice.recurring("FREQ=DAILY", DUE)
    without = tuple(name for name in ENABLED if name != "recurring")
    disabled = await make_client(enabled=without)
    assert "recurring" not in disabled.app.state.context.enabled
    alice.http = disabled
    assert (await alice.recurrence(task["id"])).status_code == 404  # no such route
    await alice.complete(task["id"])
    assert len(await alice.tasks()) == 1  # no successor
    assert await db.fetchval("SELECT count(*) FROM recurrences") == 1  # the data stays
    # Enabled again: the rule is there (this occurrence is completed: it recurs no more).
    alice.http = enabled
    assert (await alice.recurrence(task["id"])).json()["rule"] == "FREQ=DAILY"
