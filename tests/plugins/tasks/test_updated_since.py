"""Task: T-141
Spec: specs/api/rest-endpoints.md §Tasks
"""

from tests.plugins.tasks.conftest import TASKS


async def test_updated_since_lists_the_tasks_changed_since(alice, bob):
    old, changed = await alice.create(title="old"), await alice.create(title="changed")
    await bob.create(title="not mine")
    renamed = (await alice.patch(f"{TASKS}/{changed['id']}", json={"title": "new"})).json()

    since = renamed["updated_at"]
    listed = (await alice.get(TASKS, params={"updated_since": since})).json()
    assert [task["id"] for task in listed] == [changed["id"]]  # inclusive of `since` itself
    everything = (await alice.get(TASKS, params={"updated_since": old["created_at"]})).json()
    assert {task["id"] for task in everything} == {old["id"], changed["id"]}
    offset = since.replace("Z", "+02:00")  # two hours earlier than `since`: both tasks
    assert len((await alice.get(TASKS, params={"updated_since": offset})).json()) == 2


async def test_updated_since_needs_a_timezone(alice):
    response = await alice.get(TASKS, params={"updated_since": "2030-01-01T00:00:00"})
    assert response.status_code == 422
