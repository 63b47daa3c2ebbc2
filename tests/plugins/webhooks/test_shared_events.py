"""Task: T-346
Spec: specs/features/sharing.md §The feed; specs/features/webhooks.md §Events

A shared list's events reach every member's endpoints, each with the acting user's id; a
stranger's endpoints hear nothing, and endpoints stay personal.
"""

import asyncio

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from app.testing import eventually
from tests.plugins.webhooks.conftest import TASKS, register

LISTS = "/api/v1/lists"
JOIN = "INSERT INTO list_members (list_id, user_id, member_id, role) VALUES ($1, $2, $3, $4)"


def verified(secret: str, received: list) -> list[dict]:
    """The deliveries signed with `secret`: those of that endpoint."""
    webhook, found = Webhook(secret), []
    for request in received:
        try:
            found.append(webhook.verify(request.body, request.headers))
        except WebhookVerificationError:
            continue
    return found


async def test_members_endpoints_get_the_lists_events_with_the_actor(new_user, receiver, db):
    alice, bob, carol = await new_user(), await new_user(), await new_user()
    list_id = (await alice.post(LISTS, json={"name": "Chores"})).json()["id"]
    await db.execute(JOIN, list_id, alice.id, bob.id, "editor")
    endpoints = {
        user.id: await register(user, receiver.url, event_types=["task.created", "task.updated"])
        for user in (alice, bob, carol)
    }
    task = (await bob.post(TASKS, json={"title": "dishes", "list_id": list_id})).json()
    # Who the tasks plugin recorded as the creator (the row's `created_by`), then a change
    # stamped as Bob's (as the API stamps its caller).
    creator = await db.fetchval(
        "SELECT coalesce(updated_by, created_by) FROM tasks WHERE id = $1", task["id"]
    )
    await db.execute(
        "UPDATE tasks SET title = 'the dishes', updated_by = $2, version = version + 1"
        " WHERE id = $1",
        task["id"],
        bob.id,
    )

    async def arrived() -> bool:
        return len(receiver.received) >= 4

    await eventually(arrived)
    await asyncio.sleep(0.5)  # anything more (a stranger's) would have come by now
    assert len(receiver.received) == 4
    for user in (alice, bob):
        payloads = verified(endpoints[user.id]["secret"], receiver.received)
        assert sorted((p["type"], p["data"]["actor_id"]) for p in payloads) == sorted(
            [("task.created", creator), ("task.updated", bob.id)]
        )
        assert {p["data"]["id"] for p in payloads} == {task["id"]}
    assert verified(endpoints[carol.id]["secret"], receiver.received) == []
