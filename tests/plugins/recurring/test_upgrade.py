"""Task: T-376
Spec: specs/features/recurring.md §Data, §Shared lists

Migration recurring_0002 on a database with recurrences: each takes its task's list and owner
(a recurrence left with another owner than its task's is mended), and from then on follows its
task by the key.
"""

from pathlib import Path

from tests.plugins.recurring.conftest import Recurring
from tests.plugins.tasks.conftest import TASKS
from tests.plugins.tasks.instants import downgrade, upgrade
from tests.plugins.tasks.test_shared_access import LISTS, shared_list

DUE = "2026-05-01T07:00:00Z"


async def test_recurrences_take_their_tasks_list_and_owner(
    alice: Recurring, bob: Recurring, database_url: str, tmp_path: Path, db
):
    list_id = await shared_list(alice, bob, "editor", db)
    shared = await alice.recurring("FREQ=DAILY", DUE, list_id=list_id)
    private = await alice.recurring("FREQ=WEEKLY", DUE)
    await downgrade(database_url, tmp_path, "recurring_0001")
    columns = "SELECT column_name FROM information_schema.columns WHERE table_name = 'recurrences'"
    assert "list_id" not in {r["column_name"] for r in await db.fetch(columns)}
    # As an editor's recurrence on a task moved into Alice's list could be left before.
    await db.execute("UPDATE recurrences SET user_id = $1 WHERE task_id = $2", bob.id, shared["id"])
    await upgrade(database_url, tmp_path)

    rows = await db.fetch("SELECT task_id, list_id, user_id FROM recurrences")
    found = {r["task_id"]: (r["list_id"], r["user_id"]) for r in rows}
    default = (await alice.get(f"{TASKS}/{private['id']}")).json()["list_id"]
    assert found == {shared["id"]: (list_id, alice.id), private["id"]: (default, alice.id)}
    # Bob, an editor of the list, now reaches it and completes the series on.
    assert (await bob.recurrence(shared["id"])).status_code == 200
    await bob.complete(shared["id"])
    assert (await bob.recurrence(shared["id"])).json()["successor_id"] is not None
    # And it follows its task to another list.
    other = (await alice.post(LISTS, json={"name": "Other"})).json()["id"]
    moved = await alice.post(f"{TASKS}/{private['id']}/move", json={"list_id": other})
    assert moved.status_code == 200, moved.text
    moved_to = "SELECT list_id FROM recurrences WHERE task_id = $1"
    assert await db.fetchval(moved_to, private["id"]) == other
