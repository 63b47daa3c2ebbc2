"""Task: T-392, T-393, T-395, T-402
Spec: specs/features/authentication.md §Account deletion

`DELETE /auth/me` deletes the user and everything every enabled plugin keeps for them: no row
of any table names them afterwards. Lists they shared with editors live on with the
longest-standing editor; lists shared with viewers only go with them.
"""

import time

from joserfc import jwt
from joserfc.jwk import OctKey

from app.core.db.ownership import owned_tables
from app.testing import eventually
from app.testing.users import PASSWORD

ME = "/api/v1/auth/me"
TASKS, LISTS, NOTES = "/api/v1/tasks", "/api/v1/lists", "/api/v1/notes"

# Every column of every table that could hold a user's id, as text: a row naming the user
# anywhere (a key, a writer, a payload) is found.
COLUMNS = """
SELECT table_name, column_name, data_type FROM information_schema.columns
WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'jsonb', 'bytea')
"""


async def rows_naming(db, user_id: str) -> dict[str, int]:
    found = {}
    for table, column, kind in await db.fetch(COLUMNS):
        value = f'"{column}"' if kind != "bytea" else f"encode(\"{column}\", 'escape')"
        count = await db.fetchval(
            f'SELECT count(*) FROM "{table}" WHERE strpos({value}::text, $1) > 0', user_id
        )
        if count:
            found[f"{table}.{column}"] = count
    return found


# A job the worker is running names its user until it ends (queued ones go with the user).
RUNNING_FOR = (
    "SELECT count(*) = 0 FROM pgqueuer"
    " WHERE status = 'picked' AND strpos(encode(payload, 'escape'), $1) > 0"
)


async def share(db, list_id: str, member, role: str) -> None:
    await db.execute(
        "INSERT INTO list_members (list_id, user_id, member_id, role, joined_at)"
        " SELECT id, user_id, $2, $3, clock_timestamp() FROM lists WHERE id = $1",
        list_id,
        member.id,
        role,
    )


async def new_list(user, name: str) -> str:
    response = await user.post(LISTS, json={"name": name})
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def new_task(user, assignee=None, db=None, **fields) -> dict:
    response = await user.post(TASKS, json={"title": "Water the plants", **fields})
    assert response.status_code == 201, response.text
    task = response.json()
    if assignee is not None:  # no route assigns yet: as the sharing tests do
        await db.execute("UPDATE tasks SET assignee_id = $2 WHERE id = $1", task["id"], assignee.id)
    return task


async def test_deletion_leaves_no_row_of_the_user_anywhere(client, make_user, db):
    ada, bob, cat = await make_user(), await make_user(), await make_user()
    # Ada's own things, in every plugin the tests enable.
    task = await new_task(ada, due_at="2030-01-01T09:00:00Z")
    assert (
        await ada.post(f"{TASKS}/{task['id']}/reminders", json={"offset": "-PT15M"})
    ).status_code == 201
    recurrence = {"rule": "FREQ=WEEKLY", "timezone": "Europe/Berlin"}
    assert (await ada.put(f"{TASKS}/{task['id']}/recurrence", json=recurrence)).status_code == 200
    assert (await ada.post(NOTES, json={"body": "mine"})).status_code == 201
    await db.execute(  # no outbound host is allowed here: the endpoint is written directly
        "INSERT INTO webhook_endpoints (id, user_id, url, event_types, secret, enabled,"
        " created_at, updated_at, version)"
        " VALUES ('ep-ada', $1, 'https://hooks.example.com/', '{*}', 'whsec_x', true,"
        " now(), now(), 1)",
        ada.id,
    )
    # A list shared with editors (Bob since before Cat), one with a viewer only.
    edited, viewed = await new_list(ada, "Shopping"), await new_list(ada, "Diary")
    await share(db, edited, bob, "editor")
    await share(db, edited, cat, "editor")
    await share(db, viewed, cat, "viewer")
    kept = await new_task(ada, cat, db, list_id=edited)
    await new_task(ada, list_id=viewed)
    # Ada writes in Bob's list, and is assigned a task there.
    bobs = await new_list(bob, "Garage")
    await share(db, bobs, ada, "editor")
    written = await new_task(ada, ada, db, list_id=bobs)
    # A personal token, used (so this instance remembers it), and a password reset link.
    script = await ada.scoped("tasks:read")
    assert (await script.get(TASKS)).status_code == 200
    reset = await client.post("/api/v1/auth/password-reset", json={"email": ada.email})
    assert reset.status_code == 202
    # Throttled actions: counters named by her email (the reset) and by her id (verification,
    # password change).
    assert (await ada.post("/api/v1/auth/verify-email")).status_code < 500
    wrong = {"current_password": "not the password", "new_password": PASSWORD + "!"}
    assert (await ada.post("/api/v1/auth/password", json=wrong)).status_code == 400
    counters = (
        "SELECT array_agg(key) FROM login_failures"
        " WHERE strpos(key, $1) > 0 OR strpos(key, lower($2)) > 0"
    )
    assert len(await db.fetchval(counters, ada.id, ada.email)) >= 3
    naming = await rows_naming(db, ada.id)
    assert {"personal_tokens.user_id", "account_tokens.user_id"} <= naming.keys()

    response = await ada.delete(ME, json={"password": PASSWORD})
    assert response.status_code == 204, response.text

    # A job already running when she went (a webhook delivery of her task) ends finding her
    # rows gone, and leaves the queue; then nothing names her.
    await eventually(lambda: db.fetchval(RUNNING_FOR, ada.id))
    assert await rows_naming(db, ada.id) == {}
    assert await db.fetchval(counters, ada.id, ada.email) is None
    # Every `Owned` model's table in this database: the process may have imported models of
    # plugins this app does not enable (another test's), whose tables are not here.
    present = {row[0] for row in await db.fetch("SELECT tablename FROM pg_tables")}
    for table in owned_tables():
        if table.name in present:
            count = f'SELECT count(*) FROM "{table.name}" WHERE user_id = $1'
            assert await db.fetchval(count, ada.id) == 0, table.name
    # The shared list is Bob's now, with its task; Cat is still an editor of it.
    handed = await bob.get(f"{LISTS}/{edited}")
    assert handed.status_code == 200 and handed.json()["role"] == "owner"
    assert (await bob.get(f"{TASKS}/{kept['id']}")).status_code == 200
    assignee = "SELECT assignee_id FROM tasks WHERE id = $1"
    assert await db.fetchval(assignee, kept["id"]) == cat.id
    assert (await cat.get(f"{LISTS}/{edited}")).json()["role"] == "editor"
    assert (await cat.get(f"{LISTS}/{viewed}")).status_code == 404
    # Bob's task Ada wrote stays, naming nobody.
    assert (await bob.get(f"{TASKS}/{written['id']}")).status_code == 200
    assert await db.fetchval(assignee, written["id"]) is None
    # Her tokens no longer work: the personal one is not taken from this instance's memory.
    assert (await ada.get(ME)).status_code == 401
    assert (await script.get(TASKS)).status_code == 401
    assert (await bob.get(ME)).status_code == 200


async def test_a_wrong_or_missing_password_deletes_nothing(client, make_user, db):
    ada = await make_user()
    await new_task(ada)
    wrong = await ada.delete(ME, json={"password": "not my password"})
    assert wrong.status_code == 403
    missing = await ada.delete(ME)
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["loc"] == ["body", "password"] or "password" in missing.text
    assert (await ada.get(ME)).status_code == 200
    assert await db.fetchval("SELECT count(*) FROM tasks WHERE user_id = $1", ada.id) == 1


async def test_wrong_passwords_are_throttled(client, make_user):
    ada = await make_user()
    answers = [
        (await ada.delete(ME, json={"password": f"guess {n}"})).status_code for n in range(7)
    ]
    assert answers[:5] == [403] * 5 and answers[5] == 429
    assert (await ada.get(ME)).status_code == 200


SECRET = "a-better-auth-shared-secret-of-32-bytes!"


def better_auth_token(sub: str, age: int) -> str:
    now = int(time.time()) - age
    claims = {"sub": sub, "email": f"{sub}@example.com", "iat": now, "exp": now + 3600}
    return jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(SECRET))


async def test_a_better_auth_user_deletes_with_a_fresh_token(make_client, db):
    client = await make_client(environment={"BETTER_AUTH_SECRET": SECRET})
    stale = {"Authorization": f"Bearer {better_auth_token('ba-ada', 600)}"}
    fresh = {"Authorization": f"Bearer {better_auth_token('ba-ada', 5)}"}
    created = await client.post(TASKS, json={"title": "Call mum"}, headers=stale)
    assert created.status_code == 201, created.text
    refused = await client.delete(ME, headers=stale)
    assert refused.status_code == 403
    assert "5 minutes" in refused.json()["detail"]
    assert (await client.delete(ME, headers=fresh)).status_code == 204
    assert await rows_naming(db, "ba-ada") == {}
