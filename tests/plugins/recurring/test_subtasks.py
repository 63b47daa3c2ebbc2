"""Task: T-297, T-316
Spec: specs/features/recurring.md §Subtasks

A recurring task's subtasks go on with the series: when the next occurrence is made (completing
one, deleting "this" one), they move under it, open again (as Todoist resets them), while the
completed occurrence keeps none. A recurring subtask's next occurrence is a subtask of the same
task.
"""

from tests.plugins.recurring.conftest import Recurring
from tests.plugins.tasks.conftest import TASKS


async def children(user: Recurring, task_id: str) -> list[dict]:
    response = await user.get(TASKS, params={"parent_id": task_id, "sort": "title"})
    assert response.status_code == 200, response.text
    return response.json()


async def test_completing_hands_the_subtasks_to_the_next_occurrence_open(
    alice: Recurring, statements
):
    task = await alice.recurring("FREQ=DAILY", "2026-05-01T07:00:00Z", title="Tidy up")
    kitchen = await alice.create(title="a kitchen", parent_id=task["id"])
    sink = await alice.create(title="sink", parent_id=kitchen["id"])
    desk = await alice.create(title="b desk", parent_id=task["id"], completed=True)
    statements.clear()
    await alice.complete(task["id"])
    assert statements.verbs() == ["BEGIN", "UPDATE", "SELECT", "WITH", "WITH", "COMMIT"]

    successor = (await alice.recurrence(task["id"])).json()["successor_id"]
    moved = await children(alice, successor)
    assert [t["id"] for t in moved] == [kitchen["id"], desk["id"]]
    assert all(not t["completed"] and t["completed_at"] is None for t in moved)
    below = await children(alice, kitchen["id"])
    assert [t["id"] for t in below] == [sink["id"]] and not below[0]["completed"]
    assert await children(alice, task["id"]) == []  # the completed occurrence keeps none
    done = (await alice.get(f"{TASKS}/{task['id']}")).json()
    assert done["completed"]

    # The next completion hands them on again.
    await alice.complete(successor)
    third = (await alice.recurrence(successor)).json()["successor_id"]
    assert {t["id"] for t in await children(alice, third)} == {kitchen["id"], desk["id"]}


async def test_a_recurring_task_without_subtasks_costs_what_it_did(alice: Recurring, statements):
    task = await alice.recurring("FREQ=DAILY", "2026-05-01T07:00:00Z")
    statements.clear()
    await alice.complete(task["id"])
    assert statements.verbs() == ["BEGIN", "UPDATE", "SELECT", "WITH", "COMMIT"]


async def test_a_recurring_subtasks_next_occurrence_has_the_same_parent(alice: Recurring):
    project = await alice.create(title="project")
    weekly = await alice.recurring(
        "FREQ=WEEKLY", "2026-05-01T07:00:00Z", title="report", parent_id=project["id"]
    )
    await alice.complete(weekly["id"])
    successor = (await alice.recurrence(weekly["id"])).json()["successor_id"]
    assert (await alice.get(f"{TASKS}/{successor}")).json()["parent_id"] == project["id"]
    assert {t["id"] for t in await children(alice, project["id"])} == {weekly["id"], successor}


async def test_deleting_this_occurrence_keeps_its_subtasks_in_the_series(alice: Recurring):
    task = await alice.recurring("FREQ=DAILY", "2026-05-01T07:00:00Z")
    step = await alice.create(title="step", parent_id=task["id"], completed=True)
    gone = await alice.delete(f"{TASKS}/{task['id']}/occurrence", params={"scope": "this"})
    assert gone.status_code == 204
    (successor,) = [t for t in await alice.tasks() if t["parent_id"] is None]
    (kept,) = await children(alice, successor["id"])
    assert kept["id"] == step["id"] and not kept["completed"]
    # "This and all future" takes them along, as any delete does its subtree.
    gone = await alice.delete(f"{TASKS}/{successor['id']}/occurrence", params={"scope": "future"})
    assert gone.status_code == 204
    assert (await alice.get(f"{TASKS}/{step['id']}")).status_code == 404


async def test_the_next_occurrence_stays_in_its_list_with_its_subtasks(alice: Recurring):
    made = await alice.post("/api/v1/lists", json={"name": "Chores"})
    chores = made.json()["id"]
    task = await alice.recurring(
        "FREQ=DAILY", "2026-05-01T07:00:00Z", title="Tidy up", list_id=chores
    )
    first = await alice.create(title="first", parent_id=task["id"])
    second = await alice.create(title="second", parent_id=task["id"])
    below = await alice.create(title="below", parent_id=second["id"])
    moved = await alice.post(f"{TASKS}/{second['id']}/move", json={"after": None})
    assert moved.status_code == 200, moved.text
    await alice.complete(task["id"])

    successor_id = (await alice.recurrence(task["id"])).json()["successor_id"]
    successor = (await alice.get(f"{TASKS}/{successor_id}")).json()
    assert successor["list_id"] == chores and successor["parent_id"] is None
    everything = (await alice.get(TASKS, params={"list_id": chores})).json()
    assert successor["position"] == max(t["position"] for t in everything)  # last in its list
    # Under it, in their manual order, in the same list; the subtree below them too.
    under = await alice.get(TASKS, params={"parent_id": successor_id, "sort": "position"})
    assert [t["id"] for t in under.json()] == [second["id"], first["id"]]
    assert {t["list_id"] for t in under.json()} == {chores}
    kept = (await alice.get(f"{TASKS}/{below['id']}")).json()
    assert kept["list_id"] == chores and kept["parent_id"] == second["id"]
    listed = await alice.get(TASKS, params={"list_id": chores, "top_level": True})
    assert {t["id"] for t in listed.json()} == {task["id"], successor_id}
