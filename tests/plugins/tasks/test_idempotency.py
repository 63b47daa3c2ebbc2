"""Task: T-047, T-316
Spec: specs/api/rest-endpoints.md §Tasks

`Idempotency-Key` on `POST /tasks`: retries replay the first response and create nothing.
"""

import asyncio

from tests.plugins.tasks.conftest import TASKS, User

BODY = {"title": "pay rent", "tags": ["home"]}
REPLAYED_HEADERS = ("location", "etag", "content-type")


async def count(db, user: User) -> int:
    return await db.fetchval("SELECT count(*) FROM tasks WHERE user_id = $1", user.id)


async def test_retry_returns_the_first_response_and_creates_nothing(alice: User, db):
    key = {"Idempotency-Key": "k-1"}
    first = await alice.post(TASKS, json=BODY, headers=key)
    assert first.status_code == 201
    # The same body spelt differently is the same request.
    retry = await alice.post(
        TASKS,
        content=b'{ "tags": ["home"],  "title": "pay rent" }',
        headers={**key, "Content-Type": "application/json"},
    )
    assert retry.status_code == 201
    assert retry.json() == first.json()
    for header in REPLAYED_HEADERS:
        assert retry.headers[header] == first.headers[header]
    assert await count(db, alice) == 1


async def test_replay_is_the_first_response_even_after_the_task_changed(alice: User):
    key = {"Idempotency-Key": "k-2"}
    first = await alice.post(TASKS, json=BODY, headers=key)
    await alice.patch(first.headers["location"], json={"title": "changed"})
    retry = await alice.post(TASKS, json=BODY, headers=key)
    assert retry.json() == first.json()


async def test_same_key_with_another_body_is_422(alice: User, db):
    key = {"Idempotency-Key": "k-3"}
    await alice.post(TASKS, json=BODY, headers=key)
    response = await alice.post(TASKS, json={**BODY, "title": "other"}, headers=key)
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["detail"]
    assert await count(db, alice) == 1


async def test_keys_are_per_user(alice: User, bob: User, db):
    key = {"Idempotency-Key": "shared"}
    a = await alice.post(TASKS, json=BODY, headers=key)
    b = await bob.post(TASKS, json=BODY, headers=key)
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]
    assert b.json()["user_id"] == bob.id
    assert await count(db, alice) == await count(db, bob) == 1


async def test_without_a_key_every_post_creates(alice: User, db):
    await alice.post(TASKS, json=BODY)
    await alice.post(TASKS, json=BODY)
    assert await count(db, alice) == 2


async def test_concurrent_requests_with_one_key_create_one_task(alice: User, db):
    key = {"Idempotency-Key": "race"}
    responses = await asyncio.gather(*(alice.post(TASKS, json=BODY, headers=key) for _ in range(8)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert await count(db, alice) == 1


async def test_keys_expire_after_24_hours(alice: User, bob: User, db):
    key = {"Idempotency-Key": "old"}
    first = await alice.post(TASKS, json=BODY, headers=key)
    await alice.post(TASKS, json=BODY, headers={"Idempotency-Key": "older"})
    await bob.post(TASKS, json=BODY, headers=key)
    await db.execute("UPDATE task_idempotency_keys SET created_at = now() - interval '25 hours'")
    again = await alice.post(TASKS, json={**BODY, "title": "new body is fine now"}, headers=key)
    assert again.status_code == 201
    assert again.json()["id"] != first.json()["id"]
    # The statement that stores a key deletes the caller's other expired keys; another user's
    # go with that user's next stored key.
    assert await keys(db) == {(alice.id, "old"), (bob.id, "old")}
    await bob.post(TASKS, json=BODY, headers={"Idempotency-Key": "new"})
    assert await keys(db) == {(alice.id, "old"), (bob.id, "new")}


async def keys(db) -> set[tuple[str, str]]:
    rows = await db.fetch("SELECT user_id, key FROM task_idempotency_keys")
    return {(row["user_id"], row["key"]) for row in rows}


async def test_bad_keys_are_422(alice: User, db):
    for bad in ("", "x" * 256):
        response = await alice.post(TASKS, json=BODY, headers={"Idempotency-Key": bad})
        assert response.status_code == 422
    assert await count(db, alice) == 0


async def test_invalid_body_with_a_key_stores_nothing(alice: User, db):
    key = {"Idempotency-Key": "k-4"}
    assert (await alice.post(TASKS, json={"title": ""}, headers=key)).status_code == 422
    assert (await alice.post(TASKS, json=BODY, headers=key)).status_code == 201
    assert await db.fetchval("SELECT count(*) FROM task_idempotency_keys") == 1


async def test_replay_is_the_first_body_with_its_list_and_position(alice: User):
    work = (await alice.post("/api/v1/lists", json={"name": "Work"})).json()
    parent = await alice.create(title="parent", list_id=work["id"])
    await alice.create(title="before it", list_id=work["id"])
    for n, body in enumerate(
        (
            BODY,  # the default list
            {**BODY, "list_id": work["id"]},
            {**BODY, "parent_id": parent["id"]},  # its parent's list
        )
    ):
        key = {"Idempotency-Key": f"k-list-{n}"}
        first = await alice.post(TASKS, json=body, headers=key)
        assert first.status_code == 201, first.text
        made = first.json()
        stored = (await alice.get(first.headers["location"])).json()
        assert (made["list_id"], made["position"]) == (stored["list_id"], stored["position"])
        # Later tasks take the end of the list, and this one moves: the replay is unmoved.
        await alice.create(title="after it", list_id=made["list_id"])
        other = await alice.post(f"{TASKS}/{made['id']}/move", json={"before": None})
        assert other.status_code == 200, other.text
        retry = await alice.post(TASKS, json=body, headers=key)
        assert retry.status_code == 201 and retry.headers["idempotent-replayed"] == "true"
        assert retry.json() == first.json()  # the same object (jsonb stores keys reordered)
        assert retry.json()["list_id"] == made["list_id"]
        assert retry.json()["position"] == made["position"] != other.json()["position"]
