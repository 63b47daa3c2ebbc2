"""Task: T-394, T-396
Spec: specs/features/authentication.md §Data export

`GET /auth/me/export`: one JSON document of everything the caller owns, across plugins, streamed.
"""

import json

from tests.plugins.auth.test_account_deletion import NOTES, TASKS, new_list, new_task, share

EXPORT = "/api/v1/auth/me/export"


async def test_the_export_holds_what_the_user_owns_and_nothing_of_others(client, make_user, db):
    ada, bob = await make_user(), await make_user()
    mine = await new_task(ada, title="Mine", due_at="2030-01-01T09:00:00Z")
    reminder = await ada.post(f"{TASKS}/{mine['id']}/reminders", json={"offset": "-PT15M"})
    assert reminder.status_code == 201
    recurrence = {"rule": "FREQ=WEEKLY", "timezone": "Europe/Berlin"}
    assert (await ada.put(f"{TASKS}/{mine['id']}/recurrence", json=recurrence)).status_code == 200
    assert (await ada.post(NOTES, json={"body": "a note"})).status_code == 201
    await db.execute(  # no outbound host is allowed here: the endpoint is written directly
        "INSERT INTO webhook_endpoints (id, user_id, url, event_types, secret, enabled,"
        " created_at, updated_at, version)"
        " VALUES ('ep-1', $1, 'https://hooks.example.com/', '{*}', 'whsec_TOPSECRET', true,"
        " now(), now(), 1)",
        ada.id,
    )
    bobs = await new_list(bob, "Garage")
    await share(db, bobs, ada, "editor")
    theirs = await new_task(ada, list_id=bobs)  # Ada wrote it; Bob owns it
    await new_task(bob, title="Bob's")

    made = await ada.post("/api/v1/auth/tokens", json={"name": "cron", "scopes": ["tasks:read"]})
    assert made.status_code == 201, made.text

    response = await ada.get(EXPORT)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-disposition"].startswith("attachment")
    assert response.headers["cache-control"] == "no-store"
    document = json.loads(response.content)
    assert document["account"]["id"] == ada.id
    assert "password_hash" not in document["account"]
    assert len(document["sessions"]) == 1
    [token] = document["personal_tokens"]  # what GET /tokens lists, never the token or its hash
    assert (token["id"], token["name"], token["scopes"]) == (
        made.json()["id"],
        "cron",
        ["tasks:read"],
    )
    assert made.json()["token"] not in response.text and "token_hash" not in response.text
    assert [task["id"] for task in document["tasks"]] == [mine["id"]]
    assert {lst["is_default"] for lst in document["lists"]} == {True}
    assert [note["body"] for note in document["notes"]] == ["a note"]
    assert [r["id"] for r in document["reminders"]] == [reminder.json()["id"]]
    assert [r["rule"] for r in document["recurrences"]] == ["FREQ=WEEKLY"]
    assert [e["url"] for e in document["webhook_endpoints"]] == ["https://hooks.example.com/"]
    assert "secret" not in document["webhook_endpoints"][0] and "TOPSECRET" not in response.text
    assert document["reminders_inbox"] == []
    # Deliveries of the tasks' events may or may not be made yet (a background consumer).
    assert all(d["endpoint_id"] == "ep-1" for d in document["webhook_deliveries"])
    # Bob's list and the task Ada wrote in it are Bob's (only her webhook deliveries, of the
    # events she was sent, may name them).
    mine_only = json.dumps([document[name] for name in ("lists", "tasks", "notes", "reminders")])
    assert theirs["id"] not in mine_only and bob.id not in mine_only
    assert "argon2" not in response.text  # no password hash


async def test_the_export_pages_through_more_rows_than_a_page(client, make_user, db):
    ada = await make_user()
    first = await new_task(ada)
    await db.execute(
        "INSERT INTO tasks (id, user_id, list_id, title, position)"
        " SELECT gen_random_uuid()::text, user_id, list_id, 'Task ' || n, 'b' || lpad(n::text, 6, '0')"
        " FROM tasks, generate_series(1, 2500) AS n WHERE id = $1",
        first["id"],
    )
    document = json.loads((await ada.get(EXPORT)).content)
    ids = [task["id"] for task in document["tasks"]]
    assert len(ids) == len(set(ids)) == 2501
