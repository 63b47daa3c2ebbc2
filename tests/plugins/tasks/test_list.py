"""Task: T-044
Spec: specs/api/rest-endpoints.md §Tasks

`GET /tasks`: every query parameter, their combinations, sorting and bad values.
"""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.core.errors import ConfigError
from tests.plugins.tasks.conftest import TASKS, User, sign_up

NOW = datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat()


async def titles(user: User, **params) -> list[str]:
    response = await user.get(TASKS, params=params)
    assert response.status_code == 200, response.text
    assert isinstance(response.json(), list)
    return [task["title"] for task in response.json()]


@pytest.fixture
async def mixed(alice: User) -> User:
    """Five tasks covering every filter."""
    await alice.create(
        title="Buy milk",
        priority="high",
        tags=["home", "shop"],
        due_at=iso(NOW - timedelta(days=1)),
    )
    await alice.create(
        title="Write report",
        description="Quarterly NUMBERS 100%",
        priority="medium",
        tags=["work"],
        due_at=iso(NOW + timedelta(days=2)),
    )
    await alice.create(
        title="Call mum",
        priority="low",
        tags=["home"],
        completed=True,
        due_at=iso(NOW - timedelta(days=3)),
    )
    await alice.create(title="Fix bike_light", tags=["home", "diy"])
    await alice.create(
        title="Plan trip",
        description="buy tickets",
        priority="high",
        due_at=iso(NOW + timedelta(days=10)),
    )
    return alice


async def test_default_list_is_newest_first(mixed: User):
    assert await titles(mixed) == [
        "Plan trip",
        "Fix bike_light",
        "Call mum",
        "Write report",
        "Buy milk",
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"completed": "true"}, {"Call mum"}),
        ({"completed": "false"}, {"Buy milk", "Write report", "Fix bike_light", "Plan trip"}),
        ({"priority": "high"}, {"Buy milk", "Plan trip"}),
        ({"priority": ["low", "medium"]}, {"Call mum", "Write report"}),
        ({"priority": "none"}, {"Fix bike_light"}),
        ({"tag": "home"}, {"Buy milk", "Call mum", "Fix bike_light"}),
        ({"tag": ["home", "shop"]}, {"Buy milk"}),
        ({"tag": ["home", "work"]}, set()),
        ({"tag": "HOME"}, set()),
        ({"q": "buy"}, {"Buy milk", "Plan trip"}),  # title, and description "buy tickets"
        ({"q": "NUMBERS 100%"}, {"Write report"}),
        ({"q": "numbers 100%"}, {"Write report"}),
        ({"q": "100"}, {"Write report"}),
        ({"q": "%"}, {"Write report"}),  # LIKE wildcards are literal
        ({"q": "_"}, {"Fix bike_light"}),
        ({"q": "e_l"}, {"Fix bike_light"}),
        ({"q": "ik"}, {"Fix bike_light"}),  # shorter than a trigram
        ({"q": "zzz"}, set()),
        ({"due_before": iso(NOW)}, {"Buy milk", "Call mum"}),
        ({"due_after": iso(NOW)}, {"Write report", "Plan trip"}),
        ({"due_after": iso(NOW), "due_before": iso(NOW + timedelta(days=5))}, {"Write report"}),
        ({"overdue": "true"}, {"Buy milk"}),
        ({"overdue": "false"}, {"Write report", "Call mum", "Fix bike_light", "Plan trip"}),
        ({"priority": "high", "q": "milk"}, {"Buy milk"}),
        (
            {"tag": "home", "completed": "false", "priority": ["high", "none"]},
            {"Buy milk", "Fix bike_light"},
        ),
        ({"q": "l", "overdue": "false", "tag": "home"}, {"Fix bike_light", "Call mum"}),
        ({"completed": "true", "priority": "high"}, set()),
    ],
)
async def test_filters(mixed: User, params: dict, expected: set[str]):
    assert set(await titles(mixed, **params)) == expected


async def test_search_is_case_insensitive_over_title_and_description(alice: User):
    await alice.create(title="GROCERIES", description=None)
    await alice.create(title="other", description="fresh Groceries list")
    await alice.create(title="nothing here")
    assert set(await titles(alice, q="groceries")) == {"GROCERIES", "other"}
    assert set(await titles(alice, q="RIES LI")) == {"other"}
    assert await titles(alice, q="groceries list x") == []


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("title", ["Buy milk", "Call mum", "Fix bike_light", "Plan trip", "Write report"]),
        ("-title", ["Write report", "Plan trip", "Fix bike_light", "Call mum", "Buy milk"]),
        # Tasks without a due date come last ascending, first descending.
        ("due_at", ["Call mum", "Buy milk", "Write report", "Plan trip", "Fix bike_light"]),
        ("-due_at", ["Fix bike_light", "Plan trip", "Write report", "Buy milk", "Call mum"]),
        ("created_at", ["Buy milk", "Write report", "Call mum", "Fix bike_light", "Plan trip"]),
        ("-created_at", ["Plan trip", "Fix bike_light", "Call mum", "Write report", "Buy milk"]),
    ],
)
async def test_sort(mixed: User, sort: str, expected: list[str]):
    assert await titles(mixed, sort=sort) == expected


async def test_sort_by_priority_is_by_rank_then_id(mixed: User):
    rank = {"none": 0, "low": 1, "medium": 2, "high": 3}
    ascending = (await mixed.get(TASKS, params={"sort": "priority"})).json()
    assert [t["priority"] for t in ascending] == ["none", "low", "medium", "high", "high"]
    assert ascending == sorted(ascending, key=lambda t: (rank[t["priority"]], t["id"]))
    descending = (await mixed.get(TASKS, params={"sort": "-priority"})).json()
    assert descending == ascending[::-1]


async def test_sort_by_updated_at(mixed: User):
    listed = (await mixed.get(TASKS, params={"sort": "created_at"})).json()
    await mixed.patch(f"{TASKS}/{listed[0]['id']}", json={"title": "Buy oat milk"})
    assert (await titles(mixed, sort="-updated_at"))[0] == "Buy oat milk"
    assert (await titles(mixed, sort="updated_at"))[-1] == "Buy oat milk"


async def test_ties_are_broken_by_id(alice: User, db):
    moment = NOW - timedelta(hours=1)
    ids = sorted(str(uuid.uuid4()) for _ in range(6))
    for task_id in ids:
        await db.execute(
            "INSERT INTO tasks (id, user_id, title, created_at, updated_at)"
            " VALUES ($1, $2, 'same', $3, $3)",
            task_id,
            alice.id,
            moment,
        )
    for sort in ("created_at", "title", "priority", "due_at", "updated_at"):
        asc = [t["id"] for t in (await alice.get(TASKS, params={"sort": sort})).json()]
        desc = [t["id"] for t in (await alice.get(TASKS, params={"sort": f"-{sort}"})).json()]
        assert asc == ids and desc == ids[::-1], sort


async def test_limit_default_and_maximum(make_client, user_factory):
    alice = await user_factory()
    for i in range(55):
        await alice.create(title=f"t{i}")
    assert len(await titles(alice)) == 50
    assert len(await titles(alice, limit=3)) == 3
    assert len(await titles(alice, limit=500)) == 55
    assert (await alice.get(TASKS, params={"limit": 501})).status_code == 422


async def test_page_sizes_come_from_settings(make_client):
    client = await make_client(tables={"tasks": {"max_page_size": 4, "default_page_size": 2}})
    user = await sign_up(client)
    for i in range(5):
        await user.create(title=f"t{i}")
    assert len(await titles(user)) == 2
    assert len(await titles(user, limit=4)) == 4
    response = await user.get(TASKS, params={"limit": 5})
    assert response.status_code == 422
    assert "at most 4" in response.json()["detail"]


@pytest.mark.parametrize(
    "table",
    [{"page_size": 10}, {"max_page_size": 0}, {"default_page_size": 600}],
)
async def test_bad_settings_stop_start_up(make_client, table: dict):
    with pytest.raises(ConfigError, match=r"\[plugins.tasks\]"):
        await make_client(tables={"tasks": table})


@pytest.mark.parametrize(
    "params",
    [
        {"completed": "maybe"},
        {"priority": "urgent"},
        {"priority": ["high", "urgent"]},
        {"sort": "colour"},
        {"sort": "--title"},
        {"sort": "user_id"},
        {"limit": "0"},
        {"limit": "-1"},
        {"limit": "ten"},
        {"due_before": "2030-01-01T00:00:00"},  # naive
        {"due_after": "next week"},
        {"overdue": "sometimes"},
        {"q": ""},
        {"q": "x" * 201},
        {"cursor": "not-a-cursor"},
        {"cursor": "eyJ2IjoxfQ"},  # base64 JSON without the fields
        {"colour": "red"},
        {"q": "a\u0000b"},
        {"tag": "a\u0000b"},
    ],
)
async def test_bad_query_values_are_422(alice: User, params: dict):
    await alice.create()
    response = await alice.get(TASKS, params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"


async def test_thousands_of_unknown_parameters_get_a_small_answer(alice: User):
    too_many = await alice.get(f"{TASKS}?" + "&".join(f"u{i}=1" for i in range(5000)))
    assert too_many.status_code == 400 and len(too_many.content) < 500
    unknown = await alice.get(f"{TASKS}?" + "&".join(f"u{i}=1" for i in range(100)))
    assert unknown.status_code == 422 and len(unknown.json()["errors"]) == 20
    assert unknown.json()["detail"].endswith("(80 more errors not listed)")
