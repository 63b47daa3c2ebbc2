"""Task: T-249
Spec: specs/features/plugins.md §The kernel; specs/api/rest-endpoints.md §Tasks

The design card's own set, `enabled = ["health", "auth", "tasks"]`, on a database migrated for
exactly that set: it starts and serves the whole task API — ETags, idempotency, batch — and a
plain write is one statement. The feed, the job queue and what needs them are not there.
"""

import httpx
import pytest

from tests.plugins.tasks.conftest import TASKS, User, plain_write_verbs, sign_up

DESIGN_CARD = ("health", "auth", "tasks")


@pytest.fixture(scope="session")
def todo_api_plugins() -> tuple[str, ...]:
    return DESIGN_CARD


@pytest.fixture
async def client(make_client) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    return await make_client(enabled=DESIGN_CARD)


async def test_the_set_starts_without_the_feed_or_the_queue(client, db):
    assert (await client.get("/api/v1/health/ready")).status_code == 200
    user = await sign_up(client)
    assert (await user.get("/api/v1/changes")).status_code == 404
    tables = {row["tablename"] for row in await db.fetch("SELECT tablename FROM pg_tables")}
    assert "tasks" in tables and "changes" not in tables
    # No change-log trigger: the only triggers are the tasks plugin's own (the one placing new
    # tasks in their list, tasks_0004; the subtasks' tree and the default list made with each
    # user, tasks_0005; assignees kept among a list's members, tasks_0006).
    triggers = await db.fetch("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
    assert {row["tgname"] for row in triggers} == {
        "tasks_place",
        "tasks_default_list",
        "tasks_tree_check_insert",
        "tasks_tree_check_update",
        "tasks_complete_subtree",
        "tasks_move_subtree",
        "tasks_assignee_check",
        "tasks_unassign_member",
    }


async def test_the_whole_task_api(client):
    alice, bob = await sign_up(client), await sign_up(client)
    created = await alice.post(TASKS, json={"title": "buy milk", "tags": ["home"]})
    assert created.status_code == 201
    task, tag = created.json(), created.headers["ETag"]
    assert created.headers["Location"] == f"{TASKS}/{task['id']}"

    got = await alice.get(f"{TASKS}/{task['id']}")
    assert got.json() == task and got.headers["ETag"] == tag
    assert (
        await alice.get(f"{TASKS}/{task['id']}", headers={"If-None-Match": tag})
    ).status_code == 304
    assert (await bob.get(f"{TASKS}/{task['id']}")).status_code == 404

    stale = {"If-Match": tag}
    renamed = await alice.patch(f"{TASKS}/{task['id']}", json={"title": "oat milk"}, headers=stale)
    assert renamed.status_code == 200 and renamed.json()["version"] == 2
    refused = await alice.patch(f"{TASKS}/{task['id']}", json={"title": "x"}, headers=stale)
    assert refused.status_code == 412
    assert (await alice.patch(f"{TASKS}/{task['id']}/complete")).json()["completed"] is True

    key = {"Idempotency-Key": "design-card-1"}
    first = await alice.post(TASKS, json={"title": "once"}, headers=key)
    again = await alice.post(TASKS, json={"title": "once"}, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"

    batch = await alice.post(
        f"{TASKS}/batch",
        json={
            "operations": [
                {"op": "create", "task": {"title": "from a batch"}},
                {"op": "update", "id": first.json()["id"], "changes": {"priority": "high"}},
                {"op": "delete", "id": task["id"]},
            ]
        },
    )
    assert [r["status"] for r in batch.json()["results"]] == [201, 200, 204]

    page = await alice.get(TASKS, params={"limit": 1})
    assert len(page.json()) == 1 and 'rel="next"' in page.headers["Link"]
    assert {t["title"] for t in (await alice.get(TASKS)).json()} == {"once", "from a batch"}
    assert (await bob.get(TASKS)).json() == []


async def test_a_plain_write_is_one_statement(client, statements):
    alice: User = await sign_up(client)
    assert await plain_write_verbs(alice, statements) == ["INSERT", "UPDATE", "UPDATE", "DELETE"]
