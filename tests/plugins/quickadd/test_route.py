"""Task: T-426, T-427, T-454
Spec: specs/features/quickadd.md §Endpoint, §Round trips, §Testing

`POST /api/v1/tasks/quick` over HTTP: the phrase table at a fixed "now" (the task as GET
answers it, its rule as the recurring plugin answers it), the statements a quick add costs,
the 422s, recurring disabled, isolation, scopes, and 60 quick adds at once.
"""

import asyncio
from typing import Any

import asyncpg
import httpx
import pytest

from app.core.plugins.plugins_file import DEFAULT_ENABLED
from app.testing import ApiUser, assert_isolated, assert_scoped
from tests.plugins.quickadd.phrases import NOW_FRIDAY, NOWS, PHRASES
from tests.plugins.tasks.conftest import QUIET, TASKS, User, sign_up
from tests.plugins.tasks.sharing import sharing

QUICK = f"{TASKS}/quick"


def fix_now(client: httpx.AsyncClient, now: Any) -> None:
    client.app.state.context.state["quickadd"].fixed = now  # type: ignore[attr-defined]


@pytest.fixture
async def client(make_client) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    return await make_client(enabled=QUIET)


async def test_the_phrase_table(client: httpx.AsyncClient) -> None:
    alice = await sign_up(client)
    work = (await alice.post("/api/v1/lists", json={"name": "Work"})).json()
    for phrase in PHRASES:
        fix_now(client, NOWS[phrase.now])
        response = await alice.post(QUICK, json={"text": phrase.text, "timezone": phrase.timezone})
        assert response.status_code == 201, (phrase.text, response.text)
        body = response.json()
        task, parse = body["task"], body["parse"]
        assert task == (await alice.get(f"{TASKS}/{task['id']}")).json()
        assert task["title"] == phrase.title
        due = task["due_at"].replace("+00:00", "Z") if task["due_at"] else None
        assert due == phrase.due_at, phrase.text
        assert task["tags"] == phrase.tags
        assert task["priority"] == (phrase.priority or "none")
        assert parse["timezone"] == phrase.timezone and parse["rrule"] == phrase.rrule
        if phrase.list is not None:
            assert task["list_id"] == work["id"] and parse["list"] == phrase.list
        recurrence = await alice.get(f"{TASKS}/{task['id']}/recurrence")
        if phrase.rrule is None:
            assert recurrence.status_code == 404
        else:
            assert recurrence.json()["rule"] == phrase.rrule
            assert recurrence.json()["timezone"] == phrase.timezone


async def test_utc_unless_told_and_the_words_explained(client: httpx.AsyncClient) -> None:
    alice = await sign_up(client)
    fix_now(client, NOW_FRIDAY)
    response = await alice.post(
        QUICK, json={"text": "Pay rent every month on the 1st at 9am #home !high"}
    )
    assert response.status_code == 201, response.text
    assert response.headers["Location"] == f"{TASKS}/{response.json()['task']['id']}"
    parse = response.json()["parse"]
    assert parse["timezone"] == "UTC"
    assert parse["words"] == {"tags": ["#home"], "priority": ["!high"], "time": ["at 9am"],
                              "rrule": ["every month on the 1st"]}  # fmt: skip
    assert "times are on the wall clock of UTC" in parse["assumed"]


async def test_statements(client: httpx.AsyncClient, statements) -> None:  # type: ignore[no-untyped-def]
    alice = await sign_up(client)
    await alice.post("/api/v1/lists", json={"name": "Work"})
    await alice.post(QUICK, json={"text": "warm up"})
    spent = {}
    for text in ("plain tomorrow #a !high", "with a list @work", "yoga every day at 9"):
        statements.clear()
        assert (await alice.post(QUICK, json={"text": text})).status_code == 201
        spent[text] = statements.verbs()
    assert spent["plain tomorrow #a !high"] == ["INSERT"]
    assert spent["with a list @work"] == ["INSERT"]  # the list looked up by the insert
    assert spent["yoga every day at 9"] == ["BEGIN", "INSERT", "INSERT", "COMMIT"]


async def test_a_named_list_is_the_callers_own_or_shared_with_them(
    client: httpx.AsyncClient, db: "asyncpg.Connection[asyncpg.Record]"
) -> None:
    alice, bob = await sign_up(client), await sign_up(client)
    groceries = (await bob.post("/api/v1/lists", json={"name": "Groceries"})).json()
    # Bob's list is no list of alice's: refused, and nothing made for either of them.
    refused = await alice.post(QUICK, json={"text": "milk @groceries"})
    assert refused.status_code == 422 and "@groceries: you have no list" in refused.text
    assert await db.fetchval("SELECT count(*) FROM tasks") == 0
    share, _ = sharing(db)
    await share(bob, alice, "viewer")  # reads the list, may not add to it: as POST /tasks says
    viewing = await alice.post(QUICK, json={"text": "milk @groceries"})
    assert viewing.status_code == 403 and "'editor' role" in viewing.text
    assert await db.fetchval("SELECT count(*) FROM tasks") == 0
    await share(bob, alice, "editor")
    made = await alice.post(QUICK, json={"text": "milk @GROCERIES"})
    assert made.status_code == 201, made.text
    task = made.json()["task"]
    assert task["list_id"] == groceries["id"] and made.json()["parse"]["list_id"] == groceries["id"]
    assert [row["title"] for row in (await bob.get(TASKS)).json()] == ["milk"]
    # Her own list of the same name comes first; `list_id` gives way to the name, and says so.
    own = (await alice.post("/api/v1/lists", json={"name": "groceries"})).json()
    body = {"text": "eggs @groceries", "list_id": groceries["id"]}
    mine = (await alice.post(QUICK, json=body)).json()
    assert mine["task"]["list_id"] == own["id"]
    assert "@groceries named a list: it wins over list_id" in mine["parse"]["assumed"]


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ({"text": ""}, "at least 1"),
        ({"text": "   "}, "at least 1"),
        ({"text": "x" * 10_000}, "at most 1000"),
        ({"text": "a", "timezone": "Mars/Olympus"}, "IANA"),
        ({"text": "#tag !high tomorrow"}, "no title"),
        ({"text": "call @nowhere"}, "@nowhere"),
        ({"text": "a tomorrow and friday"}, "more than one date"),
        ({"text": "a", "list_id": "nope"}, "not the id"),
        ({"text": "a", "list_id": "6c1f0b9a-2d3e-4f5a-8b7c-9d0e1f2a3b4c"}, "Not one of your lists"),
    ],
)
async def test_refused_and_nothing_made(
    client: httpx.AsyncClient, body: dict[str, Any], said: str
) -> None:
    alice = await sign_up(client)
    response = await alice.post(QUICK, json=body)
    assert response.status_code == 422, response.text
    assert said in response.text
    assert (await alice.get(TASKS)).json() == []


async def test_without_recurring_a_recurrence_is_refused(make_client) -> None:  # type: ignore[no-untyped-def]
    without = await make_client(enabled=tuple(n for n in QUIET if n != "recurring"))
    alice = await sign_up(without)
    response = await alice.post(QUICK, json={"text": "standup every Monday at 9"})
    assert response.status_code == 422
    assert "recurring plugin is not enabled" in response.text
    assert (await alice.get(TASKS)).json() == []
    assert (await alice.post(QUICK, json={"text": "standup monday at 9"})).status_code == 201


async def test_disabled_the_app_starts_without_it(make_client) -> None:  # type: ignore[no-untyped-def]
    without = await make_client(enabled=tuple(n for n in DEFAULT_ENABLED if n != "quickadd"))
    alice = await sign_up(without)
    assert (await alice.post(QUICK, json={"text": "a"})).status_code in (404, 405)


async def test_isolated_and_scoped(client: httpx.AsyncClient) -> None:
    alice, bob = await sign_up(client), await sign_up(client)

    async def create(user: ApiUser) -> dict[str, str]:
        made = await user.post(QUICK, json={"text": "a task tomorrow"})
        assert made.status_code == 201, made.text
        return {}

    checked = await assert_isolated(
        client.app, alice, bob, plugin="quickadd", create=create, body={"text": "x tomorrow"}
    )
    assert checked.unreachable == []
    scoped = await assert_scoped(client.app, alice, plugin="quickadd", body={"text": "x"})
    assert scoped.refused == [("POST", QUICK)]


async def test_sixty_at_once(client: httpx.AsyncClient) -> None:
    alice: User = await sign_up(client)
    answers = await asyncio.gather(
        *(alice.post(QUICK, json={"text": f"task {n} every day at 9 #load"}) for n in range(60))
    )
    assert [a.status_code for a in answers] == [201] * 60
    ids = {a.json()["task"]["id"] for a in answers}
    listed = (await alice.get(TASKS, params={"limit": 100})).json()
    assert {t["id"] for t in listed} == ids
    for task_id in list(ids)[:5]:
        assert (await alice.get(f"{TASKS}/{task_id}/recurrence")).status_code == 200
