"""Task: T-286
Spec: specs/features/webhooks.md §Events

A list's events: `list.created`, `list.updated`, `list.deleted` (with a `task.deleted` for each of
its tasks), and none for the default list, which is every user's from the start.
"""

from standardwebhooks import Webhook

from app.testing import eventually
from tests.plugins.webhooks.conftest import TASKS, register

LISTS = "/api/v1/lists"


async def test_list_events_arrive_and_the_default_list_is_none(new_user, receiver):
    alice = await new_user()
    endpoint = await register(alice, receiver.url, event_types=["*"])
    await alice.post(TASKS, json={"title": "in the default list"})  # stores the default list
    made = (await alice.post(LISTS, json={"name": "Groceries"})).json()
    task = (await alice.post(TASKS, json={"title": "milk", "list_id": made["id"]})).json()
    renamed = (await alice.patch(f"{LISTS}/{made['id']}", json={"name": "Food"})).json()
    assert (await alice.delete(f"{LISTS}/{made['id']}")).status_code == 204

    async def arrived() -> bool:
        return len(receiver.received) == 6

    await eventually(arrived)
    webhook = Webhook(endpoint["secret"])
    payloads = [webhook.verify(r.body, r.headers) for r in receiver.received]
    kinds = sorted((p["type"], p["data"]["id"]) for p in payloads)
    assert [kind for kind, _ in kinds] == [
        "list.created",
        "list.deleted",
        "list.updated",
        "task.created",
        "task.created",
        "task.deleted",
    ]
    by_type = {p["type"]: p["data"] for p in payloads}

    # As the API shows the list, but the caller's `role`: one event serves every member.
    def shown(answer: dict) -> dict:
        return {key: value for key, value in answer.items() if key != "role"}

    assert by_type["list.created"] == {"id": made["id"], "actor_id": alice.id, "list": shown(made)}
    assert by_type["list.updated"] == {
        "id": made["id"],
        "actor_id": alice.id,
        "list": shown(renamed),
    }
    assert by_type["list.deleted"] == {"id": made["id"], "actor_id": None, "list": None}
    assert by_type["task.deleted"]["id"] == task["id"]
