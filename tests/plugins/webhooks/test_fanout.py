"""Task: T-224
Spec: specs/features/webhooks.md §Delivery, §Fairness

Cheap, fair outbound (issue 16): every attempt goes through the process's one outbound client
(connections kept alive, one TLS context), and one user's fan-out neither runs unbounded nor
keeps another user's first delivery waiting behind it.
"""

import json
import ssl
from typing import Any

import asyncpg
import pytest

from app.testing import ApiUser, eventually, sign_up
from tests.plugins.webhooks.conftest import TASKS, Receiver, register

BATCH = f"{TASKS}/batch"


def creates(count: int) -> dict[str, Any]:
    return {"operations": [{"op": "create", "task": {"title": f"t{i}"}} for i in range(count)]}


async def test_attempts_reuse_the_process_connections_and_tls_context(
    start_app, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
):
    client = await start_app()
    alice = await sign_up(client, ApiUser)
    receiver.keep_alive = True
    await register(alice, receiver.url)
    contexts: list[object] = []
    real = ssl.create_default_context

    def counting(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        contexts.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(ssl, "create_default_context", counting)
    for count in range(1, 11):  # one after the other: each may reuse the last one's connection
        assert (await alice.post(TASKS, json={"title": f"t{count}"})).status_code == 201

        async def arrived(count: int = count) -> bool:
            return len(receiver.received) == count

        await eventually(arrived)
    # Before issue 16 each attempt built a client, a TLS context and a connection: 10 each.
    assert contexts == []
    assert receiver.connections <= 3


async def test_attempts_at_once_are_capped(start_app, receiver: Receiver):
    client = await start_app(tables={"webhooks": {"max_concurrent_deliveries": 2}})
    alice = await sign_up(client, ApiUser)
    receiver.delay = 0.1
    for _ in range(3):
        await register(alice, receiver.url)
    assert (await alice.post(BATCH, json=creates(10))).status_code == 200

    async def all_arrived() -> bool:
        return len(receiver.received) == 30

    await eventually(all_arrived, seconds=60)
    assert receiver.most_at_once <= 2  # every one of the 30 at once before issue 16


async def test_another_users_first_delivery_passes_a_fan_out(start_app, receiver: Receiver):
    client = await start_app(tables={"webhooks": {"max_concurrent_deliveries": 2}})
    alice, bob = await sign_up(client, ApiUser), await sign_up(client, ApiUser)
    receiver.delay = 0.25  # Alice's 60 deliveries take about 7.5 s, two at a time
    base = f"http://127.0.0.1:{receiver.port}"
    for _ in range(3):
        await register(alice, f"{base}/alice")
    await register(bob, f"{base}/bob")
    assert (await alice.post(BATCH, json=creates(20))).status_code == 200

    def paths() -> list[str]:
        return [request.path for request in receiver.received]

    async def fan_out_started() -> bool:
        return "/alice" in paths()

    await eventually(fan_out_started)
    assert (await bob.post(TASKS, json={"title": "mine"})).status_code == 201

    async def bob_arrived() -> bool:
        return "/bob" in paths()

    await eventually(bob_arrived, seconds=60)
    before_bob = paths().index("/bob")
    # Bob's job is taken at the next free slot, ahead of every one of Alice's still waiting;
    # what Alice got meanwhile is what was in flight or started while Bob's write was being
    # dispatched. Without the ranking Bob's would wait behind all 60.
    assert before_bob < 30, paths()

    async def all_arrived() -> bool:
        return len(receiver.received) == 61

    await eventually(all_arrived, seconds=60)
    ids = [request.headers["webhook-id"] for request in receiver.received]
    assert len(set(ids)) == 61  # none lost, none twice


async def test_jobs_are_ranked_round_robin_by_user(
    start_app, receiver: Receiver, db: "asyncpg.Connection[asyncpg.Record]"
):
    client = await start_app(tables={"jobs": {"worker": False}})
    alice, bob = await sign_up(client, ApiUser), await sign_up(client, ApiUser)
    for _ in range(2):
        await register(alice, receiver.url)
    await register(bob, receiver.url)
    assert (await alice.post(BATCH, json=creates(5))).status_code == 200
    assert (await bob.post(TASKS, json={"title": "mine"})).status_code == 201
    assert (await alice.post(TASKS, json={"title": "more"})).status_code == 201

    async def queued() -> list[tuple[str, int]]:
        rows = await db.fetch(
            "SELECT payload, priority FROM pgqueuer WHERE entrypoint = 'webhooks.deliver'"
            " ORDER BY priority DESC, id"
        )
        users = {alice.id: "alice", bob.id: "bob"}
        return [(users[json.loads(row["payload"])["user_id"]], row["priority"]) for row in rows]

    async def all_queued() -> bool:
        return len(await queued()) == 13

    await eventually(all_queued)
    # Alice's batch ranks 0..-9; Bob, with nothing waiting, 0; Alice's next write goes after
    # her own ten waiting ones. (Jobs of one priority are taken oldest first.)
    assert sorted(await queued(), key=lambda job: (-job[1], job[0])) == [
        ("alice", 0),
        ("bob", 0),
        *[("alice", -rank) for rank in range(1, 12)],
    ]
