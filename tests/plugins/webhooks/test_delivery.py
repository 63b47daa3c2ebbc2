"""Task: T-198
Spec: specs/features/webhooks.md §Delivery, §Events

Deliveries to a receiver on loopback: signed per Standard Webhooks, retried on the schedule,
given up on with the endpoint disabled, redelivered by hand.
"""

import asyncio
import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from app.testing import ApiUser, eventually, sign_up
from tests.plugins.webhooks.conftest import (
    ENABLED,
    FAST,
    TASKS,
    WEBHOOKS,
    Receiver,
    deliveries,
    register,
)


async def test_a_task_event_arrives_signed(new_user, receiver):
    alice = await new_user()
    endpoint = await register(alice, receiver.url, event_types=["task.created"])
    task = (await alice.post(TASKS, json={"title": "Buy oat milk"})).json()

    async def arrived() -> bool:
        return len(receiver.received) == 1

    await eventually(arrived)
    request = receiver.received[0]
    payload = Webhook(endpoint["secret"]).verify(request.body, request.headers)
    assert payload["type"] == "task.created"
    assert payload["data"]["id"] == task["id"]
    assert payload["data"]["task"] == task
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"].startswith("msg_")

    async def succeeded() -> bool:
        log = await deliveries(alice, endpoint["id"])
        return len(log) == 1 and log[0]["status"] == "succeeded"

    await eventually(succeeded)
    [entry] = await deliveries(alice, endpoint["id"])
    assert entry["id"] == request.headers["webhook-id"]
    assert entry["attempts"] == 1 and entry["last_status_code"] == 200
    assert json.loads(request.body) == entry["payload"]


async def test_three_failures_then_success_is_one_delivery_with_backoff(new_user, receiver):
    alice = await new_user()
    endpoint = await register(alice, receiver.url)
    receiver.script = [(500, {}), (500, {}), (503, {})]
    await alice.post(TASKS, json={"title": "Flaky"})

    async def succeeded() -> bool:
        log = await deliveries(alice, endpoint["id"])
        return bool(log) and log[0]["status"] == "succeeded"

    await eventually(succeeded)
    await asyncio.sleep(1)  # time for a fifth request, were there one
    assert len(receiver.received) == 4
    assert len({request.headers["webhook-id"] for request in receiver.received}) == 1
    for request in receiver.received:
        Webhook(endpoint["secret"]).verify(request.body, request.headers)
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(receiver.received)]
    # the schedule is 0.5, 1.0, 1.5 s without jitter
    assert [round(gap, 1) >= wait for gap, wait in zip(gaps, (0.5, 1.0, 1.5), strict=True)] == [
        True
    ] * 3, gaps
    [entry] = await deliveries(alice, endpoint["id"])
    assert entry["attempts"] == 4
    assert entry["last_status_code"] == 200 and entry["last_error"] is None
    assert entry["delivered_at"] is not None and entry["next_attempt_at"] is None
    assert (await alice.get(f"{WEBHOOKS}/{endpoint['id']}")).json()["enabled"] is True


async def test_a_spent_schedule_fails_the_delivery_and_disables_the_endpoint(start_app, receiver):
    client = await start_app(tables={"webhooks": {"retry_schedule_seconds": [0.2, 0.2]}})
    alice = await sign_up(client, ApiUser)
    endpoint = await register(alice, receiver.url)
    receiver.script = [(500, {})] * 3
    await alice.post(TASKS, json={"title": "Doomed"})

    async def failed() -> bool:
        log = await deliveries(alice, endpoint["id"])
        return bool(log) and log[0]["status"] == "failed"

    await eventually(failed)
    [entry] = await deliveries(alice, endpoint["id"])
    assert entry["attempts"] == 3 and entry["last_status_code"] == 500
    assert entry["last_error"] == "HTTP 500"
    disabled = (await alice.get(f"{WEBHOOKS}/{endpoint['id']}")).json()
    assert disabled["enabled"] is False and disabled["disabled_at"] is not None
    assert disabled["disabled_reason"] == (
        f"disabled after 3 failed attempts of delivery {entry['id']}: last error: HTTP 500"
    )
    # Nothing more is sent to a disabled endpoint, and it cannot be redelivered to.
    await alice.post(TASKS, json={"title": "Not sent"})
    redeliver = f"{WEBHOOKS}/{endpoint['id']}/deliveries/{entry['id']}/redeliver"
    assert (await alice.post(redeliver)).status_code == 409
    await asyncio.sleep(1)
    assert len(receiver.received) == 3
    assert len(await deliveries(alice, endpoint["id"])) == 1

    # Enabled again (the reason cleared), the failed delivery is sent by hand, same message id.
    enabled = await alice.patch(f"{WEBHOOKS}/{endpoint['id']}", json={"enabled": True})
    assert enabled.status_code == 200
    assert enabled.json()["enabled"] is True and enabled.json()["disabled_reason"] is None
    answer = await alice.post(redeliver)
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "pending"

    async def redelivered() -> bool:
        log = await deliveries(alice, endpoint["id"])
        return log[0]["status"] == "succeeded"

    await eventually(redelivered)
    assert len(receiver.received) == 4
    assert receiver.received[-1].headers["webhook-id"] == entry["id"]
    assert (await deliveries(alice, endpoint["id"]))[0]["attempts"] == 4


async def test_a_redelivery_that_fails_makes_one_attempt_and_keeps_the_endpoint(
    start_app, receiver
):
    client = await start_app(tables={"webhooks": {"retry_schedule_seconds": [0.2]}})
    alice = await sign_up(client, ApiUser)
    endpoint = await register(alice, receiver.url)
    await alice.post(TASKS, json={"title": "Sent"})

    async def succeeded() -> bool:
        log = await deliveries(alice, endpoint["id"])
        return bool(log) and log[0]["status"] == "succeeded"

    await eventually(succeeded)
    [entry] = await deliveries(alice, endpoint["id"])
    receiver.script = [(500, {})] * 5
    redeliver = f"{WEBHOOKS}/{endpoint['id']}/deliveries/{entry['id']}/redeliver"
    assert (await alice.post(redeliver)).status_code == 202

    async def failed() -> bool:
        return (await deliveries(alice, endpoint["id"]))[0]["status"] == "failed"

    await eventually(failed)
    await asyncio.sleep(0.6)
    assert len(receiver.received) == 2
    assert (await alice.get(f"{WEBHOOKS}/{endpoint['id']}")).json()["enabled"] is True


async def test_a_redirect_is_not_followed(new_user, receiver):
    private = Receiver()  # where the redirect points: must never be reached
    await private.start()
    try:
        alice = await new_user()
        endpoint = await register(alice, receiver.url)
        target = f"http://127.0.0.1:{private.port}/private"
        receiver.script = [(302, {"location": target})] * 10
        await alice.post(TASKS, json={"title": "Redirected"})

        async def attempted() -> bool:
            log = await deliveries(alice, endpoint["id"])
            return bool(log) and log[0]["attempts"] >= 2

        await eventually(attempted)
        [entry] = await deliveries(alice, endpoint["id"])
        assert entry["status"] == "pending"
        assert entry["last_status_code"] == 302
        assert "redirects are not followed" in entry["last_error"]
        assert private.received == []
    finally:
        await private.close()


@pytest.mark.parametrize(
    ("op", "expected"),
    [("update", "task.updated"), ("complete", "task.completed"), ("delete", "task.deleted")],
)
async def test_events_are_named_and_filtered(new_user, receiver, op, expected):
    alice = await new_user()
    endpoint = await register(alice, receiver.url, event_types=[expected])
    task = (await alice.post(TASKS, json={"title": "Named"})).json()
    path = f"{TASKS}/{task['id']}"
    if op == "update":
        await alice.patch(path, json={"title": "Renamed"})
    elif op == "complete":
        await alice.patch(f"{path}/complete")
    else:
        await alice.delete(path)

    async def arrived() -> bool:
        return len(receiver.received) >= 1

    await eventually(arrived)
    await asyncio.sleep(0.5)
    assert len(receiver.received) == 1  # only the subscribed event (not task.created)
    payload = Webhook(endpoint["secret"]).verify(
        receiver.received[0].body, receiver.received[0].headers
    )
    assert payload["type"] == expected
    assert payload["data"]["id"] == task["id"]
    if op == "delete":
        assert payload["data"]["task"] is None
    else:
        current = (await alice.get(path)).json()
        assert payload["data"]["task"] == current
    assert payload["timestamp"].endswith("Z")


async def test_a_completed_task_edited_again_is_an_update(new_user, receiver):
    alice = await new_user()
    await register(alice, receiver.url, event_types=["task.completed", "task.updated"])
    task = (await alice.post(TASKS, json={"title": "Done", "completed": True})).json()
    await alice.patch(f"{TASKS}/{task['id']}", json={"title": "Done, renamed"})
    await alice.patch(f"{TASKS}/{task['id']}", json={"completed": False})
    await alice.patch(f"{TASKS}/{task['id']}", json={"completed": True})

    async def arrived() -> bool:
        return len(receiver.received) == 3

    await eventually(arrived)
    types = sorted(json.loads(request.body)["type"] for request in receiver.received)
    assert types == ["task.completed", "task.updated", "task.updated"]


async def test_a_rotated_secret_signs_the_next_deliveries(new_user, receiver):
    alice = await new_user()
    endpoint = await register(alice, receiver.url)
    rotated = await alice.post(f"{WEBHOOKS}/{endpoint['id']}/rotate-secret")
    assert rotated.status_code == 200
    assert rotated.headers["cache-control"] == "no-store"
    secret = rotated.json()["secret"]
    assert secret.startswith("whsec_") and secret != endpoint["secret"]
    await alice.post(TASKS, json={"title": "Signed anew"})

    async def arrived() -> bool:
        return len(receiver.received) == 1

    await eventually(arrived)
    request = receiver.received[0]
    Webhook(secret).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint["secret"]).verify(request.body, request.headers)


async def test_another_users_changes_go_to_their_endpoints_only(new_user, receiver):
    alice, bob = await new_user(), await new_user()
    await register(alice, receiver.url)
    await bob.post(TASKS, json={"title": "Bob's"})
    await alice.post(TASKS, json={"title": "Alice's"})

    async def arrived() -> bool:
        return len(receiver.received) >= 1

    await eventually(arrived)
    await asyncio.sleep(0.5)
    assert [json.loads(r.body)["data"]["task"]["title"] for r in receiver.received] == ["Alice's"]


async def test_a_fired_reminder_arrives_as_reminder_fired(make_client, receiver):
    # The reminders plugin's inbox is a channel of the change log; webhooks delivers it further.
    tables = {name: dict(settings) for name, settings in FAST.items()}
    client = await make_client(
        enabled=(*ENABLED, "reminders"),
        tables=tables,
        environment={"OUTBOUND_ALLOW_HOSTS": "127.0.0.1"},
    )
    alice = await sign_up(client, ApiUser)
    endpoint = await register(alice, receiver.url, event_types=["reminder.fired"])
    task = (await alice.post(TASKS, json={"title": "Call the plumber"})).json()
    soon = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    reminder = (await alice.post(f"{TASKS}/{task['id']}/reminders", json={"at": soon})).json()

    async def arrived() -> bool:
        return len(receiver.received) == 1

    await eventually(arrived)
    request = receiver.received[0]
    payload = Webhook(endpoint["secret"]).verify(request.body, request.headers)
    assert payload["type"] == "reminder.fired"
    assert payload["data"]["task_id"] == task["id"]
    assert payload["data"]["reminder"]["reminder_id"] == reminder["id"]
