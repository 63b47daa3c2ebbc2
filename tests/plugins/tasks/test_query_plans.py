"""Task: T-048, T-354
Spec: specs/database/schema.md §tasks plugin

The default list and a search are answered from indexes, not a sequential scan of `tasks`.

The statements checked are the ones the app really sends (captured from asyncpg during a
request), explained on a table holding many users' rows, after ANALYZE, so the planner's
choice reflects real statistics rather than an empty table or a disabled seq scan.
"""

import json

import asyncpg
import pytest

from tests.plugins.tasks.conftest import TASKS, User

USERS = 40
ROWS = 20_000
# Alice owns enough rows that her user index alone is not selective: a search must then use
# the trigram index to avoid reading thousands of rows.
ALICE_ROWS = 8_000

SEED = f"""
INSERT INTO users (id, issuer) SELECT 'seed-' || u, 'local' FROM generate_series(1, {USERS}) u;
INSERT INTO tasks (id, user_id, title, description, priority, created_at, updated_at)
SELECT gen_random_uuid()::text, 'seed-' || (n % {USERS} + 1),
       'task ' || n || ' ' || left(md5(n::text), 10),
       CASE WHEN n % 3 = 0 THEN 'notes ' || md5((n * 7)::text) END,
       (ARRAY['none', 'low', 'medium', 'high'])[n % 4 + 1]::task_priority,
       now() - n * interval '1 minute', now() - n * interval '1 minute'
FROM generate_series(1, {ROWS}) n;
"""


@pytest.fixture
async def crowded(alice: User, db) -> User:
    await db.execute(SEED)
    await db.execute(
        "INSERT INTO tasks (id, user_id, title, description, created_at, updated_at)"
        " SELECT gen_random_uuid()::text, $1, 'mine ' || n,"
        "        CASE WHEN n % 1000 = 0 THEN 'find the needle' END, now(), now()"
        f" FROM generate_series(1, {ALICE_ROWS}) n",
        alice.id,
    )
    await db.execute("ANALYZE tasks, list_members")
    return alice


async def plan_of(user: User, db, monkeypatch: pytest.MonkeyPatch, **params) -> str:
    """EXPLAIN of the statement the app sends to answer `GET /tasks` with these params."""
    captured: list[tuple[str, tuple]] = []
    fetch = asyncpg.Connection.fetch

    async def capture(connection, statement, *parameters, **kwargs):  # type: ignore[no-untyped-def]
        if "FROM tasks" in statement:
            captured.append((statement, parameters))
        return await fetch(connection, statement, *parameters, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(asyncpg.Connection, "fetch", capture)
        response = await user.get(TASKS, params=params)
    assert response.status_code == 200, response.text
    assert len(captured) == 1
    statement, parameters = captured[0]
    rows = await db.fetch(f"EXPLAIN (FORMAT JSON) {statement}", *parameters)
    return json.dumps(json.loads(rows[0][0]))


def scans(plan: str) -> set[str]:
    """The plan's scans, as "<node type> <index or table>". (`list_members` is empty in these
    tests: a sequential scan of its one page is the planner's right choice for it.)"""
    nodes: set[str] = set()

    def walk(node: dict) -> None:
        name = node.get("Index Name", node.get("Relation Name"))
        if name is not None:
            nodes.add(f"{node['Node Type']} {name}")
        for child in node.get("Plans", []):
            walk(child)

    walk(json.loads(plan)[0]["Plan"])
    return nodes


async def test_default_list_uses_the_user_index(crowded: User, db, monkeypatch):
    found = scans(await plan_of(crowded, db, monkeypatch))
    # The caller's own page from their index, merged with the page of the lists shared with
    # them (none here: a nested loop from their memberships, reading no task).
    assert "Index Scan ix_tasks_user_created_at" in found, found
    assert "Seq Scan tasks" not in found, found


async def test_search_uses_the_trigram_index(crowded: User, db, monkeypatch):
    response = await crowded.get(TASKS, params={"q": "NEEDLE"})
    assert len(response.json()) == ALICE_ROWS // 1000
    found = scans(await plan_of(crowded, db, monkeypatch, q="NEEDLE"))
    assert "Bitmap Index Scan ix_tasks_search" in found, found
    assert "Seq Scan tasks" not in found, found


async def test_a_small_users_search_reads_no_whole_table(
    crowded: User, user_factory, db, monkeypatch
):
    small = await user_factory()
    for title in ("needle in a haystack", "hay", "more hay"):
        await small.create(title=title)
    await db.execute("ANALYZE tasks, list_members")
    assert [t["title"] for t in (await small.get(TASKS, params={"q": "needle"})).json()] == [
        "needle in a haystack"
    ]
    found = scans(await plan_of(small, db, monkeypatch, q="needle"))
    assert "Seq Scan tasks" not in found, found
    assert any("Index Scan" in node for node in found), found


async def test_the_assignee_filter_uses_the_assignee_index(crowded: User, db, monkeypatch):
    # T-354: a few of Alice's thousands of tasks are assigned to her.
    await db.execute(
        "UPDATE tasks SET assignee_id = user_id WHERE user_id = $1"
        " AND id IN (SELECT id FROM tasks WHERE user_id = $1 LIMIT 8)",
        crowded.id,
    )
    await db.execute("ANALYZE tasks")
    assert len((await crowded.get(TASKS, params={"assignee": "me"})).json()) == 8
    found = scans(await plan_of(crowded, db, monkeypatch, assignee="me"))
    assert any(node.endswith("ix_tasks_assignee") for node in found), found
    assert "Seq Scan tasks" not in found, found
