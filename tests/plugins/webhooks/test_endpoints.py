"""Task: T-198, T-364
Spec: specs/api/rest-endpoints.md §Webhooks, specs/features/webhooks.md §Registration

The endpoints' API: registration checks (SSRF after resolution, https, the catalog, the limit),
the secret shown once, isolation between users, refusal at delivery time, and the plugin
disabled with its data kept.
"""

import asyncio

import pytest

from app.testing import ApiUser, assert_isolated, eventually, sign_up
from tests.plugins.tasks.sharing import sharing
from tests.plugins.webhooks.conftest import (
    ENABLED,
    TASKS,
    WEBHOOKS,
    deliveries,
    register,
)


async def test_the_secret_is_shown_once(new_user, receiver):
    alice = await new_user()
    created = await alice.post(
        WEBHOOKS, json={"url": receiver.url, "description": "mine", "event_types": ["*"]}
    )
    assert created.status_code == 201
    assert created.headers["cache-control"] == "no-store"
    endpoint = created.json()
    assert created.headers["location"] == f"{WEBHOOKS}/{endpoint['id']}"
    secret = endpoint["secret"]
    assert secret.startswith("whsec_")
    answers = [
        await alice.get(WEBHOOKS),
        await alice.get(f"{WEBHOOKS}/{endpoint['id']}"),
        await alice.patch(f"{WEBHOOKS}/{endpoint['id']}", json={"description": "still mine"}),
        await alice.get(f"{WEBHOOKS}/{endpoint['id']}/deliveries"),
    ]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert secret not in answer.text and "secret" not in answer.text


async def test_a_loopback_url_is_refused_without_the_allowance(start_app, receiver):
    client = await start_app(environment={"OUTBOUND_ALLOW_HOSTS": ""})
    alice = await sign_up(client, ApiUser)
    for url in (
        f"https://127.0.0.1:{receiver.port}/hook",
        f"https://localhost:{receiver.port}/hook",
        "https://[::1]/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://10.1.2.3/hook",
        # IPv4 inside IPv6 is judged as that IPv4 (issue 16): no traffic needed to refuse.
        "https://[::10.0.0.1]/hook",
        "https://[::a9fe:a9fe]/hook",
        "https://[::ffff:0:a9fe:a9fe]/hook",
        "https://[2002:a9fe:a9fe::1]/hook",
        "https://[2002:0a00:0001::1]/hook",
        "https://[64:ff9b:1::a9fe:a9fe]/hook",
    ):
        answer = await alice.post(WEBHOOKS, json={"url": url})
        assert answer.status_code == 422, (url, answer.text)
        [error] = answer.json()["errors"]
        assert error["loc"] == ["body", "url"]
        assert error["msg"].startswith("refused destination:"), error
    assert "127.0.0.1 is a loopback address" in str(
        (await alice.post(WEBHOOKS, json={"url": f"https://localhost:{receiver.port}/"})).json()
    )
    assert (await alice.get(WEBHOOKS)).json() == []
    assert receiver.received == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"url": "http://example.com/hook"}, "use https://"),
        ({"url": "ftp://example.com/hook"}, "use an https:// URL"),
        ({"url": "https://user:pw@example.com/hook"}, "credentials in the URL"),
        ({"url": "https://nowhere.invalid/hook"}, "cannot resolve"),
        ({"url": "https://example.com/hook", "event_types": ["task.exploded"]}, None),
        ({"url": "https://example.com/hook", "event_types": []}, "at least one"),
        ({"url": "https://example.com/hook", "secret": "mine"}, None),
    ],
)
async def test_bad_registrations_are_422s_naming_the_problem(new_user, body, message):
    alice = await new_user()
    answer = await alice.post(WEBHOOKS, json=body)
    assert answer.status_code == 422, answer.text
    if message:
        assert message in str(answer.json()["errors"]), answer.json()
    assert (await alice.get(WEBHOOKS)).json() == []


async def test_a_destination_refused_at_delivery_time_gets_no_request(
    start_app, receiver, make_client
):
    # Registered while the operator allowed loopback (an app with no worker) ...
    allowing = await start_app(tables={"jobs": {"worker": False}})
    alice = await sign_up(allowing, ApiUser)
    endpoint = await register(alice, receiver.url)
    # ... delivered by an instance that no longer allows it.
    await start_app(environment={"OUTBOUND_ALLOW_HOSTS": ""})
    await alice.post(TASKS, json={"title": "Refused"})

    async def attempted() -> bool:
        log = await deliveries(alice, endpoint["id"])
        return bool(log) and log[0]["last_error"] is not None

    await eventually(attempted)
    [entry] = await deliveries(alice, endpoint["id"])
    assert entry["last_status_code"] is None
    assert entry["last_error"] == "127.0.0.1: 127.0.0.1 is a loopback address"
    assert receiver.received == []


async def test_endpoints_per_user_are_limited(start_app, receiver):
    client = await start_app(tables={"webhooks": {"max_endpoints": 2}})
    alice, bob = await sign_up(client, ApiUser), await sign_up(client, ApiUser)
    await register(alice, receiver.url)
    await register(alice, receiver.url)
    third = await alice.post(WEBHOOKS, json={"url": receiver.url})
    assert third.status_code == 409
    assert "2 webhook endpoints" in third.json()["detail"]
    await register(bob, receiver.url)  # the limit is per user


async def test_patch_changes_disables_and_enables(new_user, receiver):
    alice = await new_user()
    endpoint = await register(alice, receiver.url)
    path = f"{WEBHOOKS}/{endpoint['id']}"
    changed = await alice.patch(path, json={"event_types": ["task.deleted"], "enabled": False})
    assert changed.status_code == 200
    assert changed.json()["event_types"] == ["task.deleted"]
    assert changed.json()["disabled_reason"] == "disabled by its owner"
    assert changed.json()["version"] == 2
    assert (await alice.patch(path, json={"url": "http://10.0.0.1/"})).status_code == 422
    assert (await alice.patch(path, json={"enabled": None})).status_code == 422
    again = (await alice.patch(path, json={"enabled": True})).json()
    assert again["enabled"] is True and again["disabled_reason"] is None
    assert (await alice.delete(path)).status_code == 204
    assert (await alice.get(path)).status_code == 404
    assert (await alice.get(f"{path}/deliveries")).status_code == 404
    assert (await alice.get(f"{WEBHOOKS}/not-a-uuid")).status_code == 404


async def test_isolation(app_client, receiver, db):
    alice, bob = await sign_up(app_client, ApiUser), await sign_up(app_client, ApiUser)
    share, unshare = sharing(db)

    async def create(user: ApiUser) -> dict[str, str]:
        # In a list of its own, which the role check shares; the endpoint hears of tasks only,
        # so the list's creation is no delivery of its.
        shared = await user.post("/api/v1/lists", json={"name": "shared"})
        endpoint = await register(user, receiver.url, event_types=["task.created"])
        await user.post(TASKS, json={"title": "For the log", "list_id": shared.json()["id"]})

        # Delivered, not only logged: an attempt still to come would change the row while
        # the isolation check compares it before and after the other user's requests.
        async def logged() -> bool:
            return [d["status"] for d in await deliveries(user, endpoint["id"])] == ["succeeded"]

        await eventually(logged)
        [delivery] = await deliveries(user, endpoint["id"])
        # Disabled, so the next row's task is not delivered here too (the list shows only
        # what `create` returned).
        await user.patch(f"{WEBHOOKS}/{endpoint['id']}", json={"enabled": False})
        return {"webhook_id": endpoint["id"], "delivery_id": delivery["id"]}

    checked = await assert_isolated(
        app_client.app,
        alice,
        bob,
        plugin="webhooks",
        create=create,
        body={"description": "hijacked", "enabled": False},
        share=share,
        unshare=unshare,
    )
    assert len(checked.unreachable) == 6, checked.unreachable
    # A member of alice's list reaches none of her endpoints or deliveries: every route a 404.
    assert checked.personal == checked.revoked == checked.unreachable
    assert checked.readable == checked.forbidden == checked.own == []


async def test_disabled_the_app_starts_and_the_data_stays(start_app, make_client, receiver, db):
    client = await start_app()
    alice = await sign_up(client, ApiUser)
    endpoint = await register(alice, receiver.url)
    without = await make_client(enabled=tuple(n for n in ENABLED if n != "webhooks"))
    assert (await without.get("/api/v1/health/ready")).status_code == 200
    answer = await without.get(WEBHOOKS, headers={"Authorization": f"Bearer {alice.token}"})
    assert answer.status_code == 404
    assert await db.fetchval("SELECT count(*) FROM webhook_endpoints") == 1
    # Tasks written meanwhile are not delivered by the disabled plugin's instance ...
    await without.post(
        TASKS, json={"title": "Meanwhile"}, headers={"Authorization": f"Bearer {alice.token}"}
    )
    # ... and enabled again, the endpoint is there as it was.
    again = await start_app()
    answer = await again.get(
        f"{WEBHOOKS}/{endpoint['id']}", headers={"Authorization": f"Bearer {alice.token}"}
    )
    assert answer.status_code == 200 and answer.json()["url"] == receiver.url
    await asyncio.sleep(0)
