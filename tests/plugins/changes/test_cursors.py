"""Task: T-219, T-259
Spec: specs/api/rest-endpoints.md §Changes, §Limits

Every cursor the API takes is range-checked, and a malformed, too long or out-of-range one is a
422 whose `loc` names it: the feed's `since` (on `/changes` and its stream) and
`Last-Event-ID`, the reminders inbox's `before`, the tasks list's `cursor`, and every page's
`limit`. Hypothesis draws the rest: never a 5xx.
"""

import asyncio
import base64
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.testing import ApiUser, sign_up
from tests.plugins.changes.conftest import CHANGES
from tests.plugins.tasks.conftest import TASKS

STREAM = f"{CHANGES}/stream"
INBOX = "/api/v1/reminders/inbox"
BOUNDED = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


BAD = [
    b64("99999999999999999999.0"),  # wider than 64 bits
    b64("1.99999999999999999999"),
    b64(f"{2**63}.0"),  # just past bigint
    b64(f"0.{2**63}"),
    b64("-1.0"),
    b64("+1.0"),
    b64("1_0.0"),
    b64("1.2.3"),
    b64("\u0661.\u0662"),  # digits of another script
    "x",
    "nonsense!",
    "🙂",
]


@pytest.mark.parametrize("cursor", BAD)
async def test_a_bad_since_is_a_422_naming_it(alice, cursor):
    for path in (CHANGES, STREAM):
        # Bounded: a cursor wrongly taken would open a stream that never ends.
        async with asyncio.timeout(10):
            response = await alice.get(path, params={"since": cursor})
        assert response.status_code == 422, (path, response.text)
        assert response.json()["errors"][0]["loc"] == ["query", "since"], path


@pytest.mark.parametrize("cursor", BAD[:10])  # a header holds ASCII only
async def test_a_bad_last_event_id_is_a_422_naming_it(alice, cursor):
    async with asyncio.timeout(10):
        response = await alice.get(STREAM, headers={"Last-Event-ID": cursor})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["header", "Last-Event-ID"]


async def test_the_largest_position_is_a_cursor(alice):
    page = await alice.get(CHANGES, params={"since": b64(f"{2**63 - 1}.{2**63 - 1}")})
    assert page.status_code == 200, page.text
    assert page.json()["changes"] == []


CURSORS = (
    st.sampled_from(BAD)
    | st.text(max_size=60)
    | st.builds(
        b64,
        st.builds(
            "{}.{}".format,
            st.integers(-(10**25), 10**25),
            st.integers(-(10**25), 10**25),
        ),
    )
)


@pytest.fixture
async def anyone(make_client) -> ApiUser:
    """A user of an app with every built-in plugin: the feed, the inbox, the tasks."""
    return await sign_up(await make_client(), ApiUser)


@BOUNDED
@given(cursor=CURSORS)
async def test_any_cursor_is_an_answer_never_a_5xx(anyone, cursor):
    checks = [
        (CHANGES, "since", ["query", "since"], {200, 410}),
        (INBOX, "before", ["query", "before"], {200}),
        (TASKS, "cursor", ["query", "cursor"], {200}),
    ]
    for path, name, loc, fine in checks:
        response = await anyone.get(path, params={name: cursor})
        assert response.status_code in fine | {422}, (path, cursor, response.text)
        if response.status_code == 422:
            assert response.json()["errors"][0]["loc"] == loc, (path, cursor)


# Too long for the parameter's `max_length`: pydantic's own 422, which must name it as ours do.
TOO_LONG = {"since": "A" * 201, "cursor": "A" * 2001, "before": "0" * 201}


@pytest.mark.parametrize("path", [CHANGES, STREAM])
async def test_a_too_long_since_is_a_422_naming_it(anyone, path):
    async with asyncio.timeout(10):
        response = await anyone.get(path, params={"since": TOO_LONG["since"]})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["query", "since"]


async def test_a_too_long_last_event_id_is_a_422_naming_it(anyone):
    async with asyncio.timeout(10):
        response = await anyone.get(STREAM, headers={"Last-Event-ID": TOO_LONG["since"]})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["header", "Last-Event-ID"]


async def test_a_bad_last_event_id_is_blamed_even_beside_a_good_since(anyone):
    now = (await anyone.get(CHANGES, params={"since": "now"})).json()["next"]
    async with asyncio.timeout(10):
        response = await anyone.get(
            STREAM, params={"since": now}, headers={"Last-Event-ID": "nonsense!"}
        )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["header", "Last-Event-ID"]


@pytest.mark.parametrize("before", ["x", "nonsense!", "🙂", "1.0", TOO_LONG["before"]])
async def test_a_bad_inbox_before_is_a_422_naming_it(anyone, before):
    response = await anyone.get(INBOX, params={"before": before})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["query", "before"]


def json_cursor(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()


async def a_tasks_cursor(user: ApiUser, **params: str) -> str:
    """A real cursor of `GET /tasks` (the second page's), for these parameters."""
    for title in ("a", "b"):
        assert (
            await user.post(TASKS, json={"title": title, "due_at": "2030-01-02T00:00:00Z"})
        ).status_code == 201
    page = await user.get(TASKS, params={"limit": "1", **params})
    return parse_qs(urlsplit(page.links["next"]["url"]).query)["cursor"][0]


async def test_a_bad_tasks_cursor_is_a_422_naming_it(anyone):
    cursor = await a_tasks_cursor(anyone, sort="due_at")
    payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    bad = [
        "x",
        "nonsense!",
        "🙂",
        TOO_LONG["cursor"],
        json_cursor({"v": 1}),  # keys missing
        json_cursor({**payload, "id": "not a uuid"}),
        json_cursor({**payload, "v": "0001-01-01T00:00:00+14:00"}),  # before any instant
        json_cursor({**payload, "v": "9999-12-31T23:59:59-12:00"}),  # after any instant
        json_cursor({**payload, "v": "2030-01-02T00:00:00"}),  # naive
        cursor + "A",
    ]
    for value in bad:
        response = await anyone.get(TASKS, params={"sort": "due_at", "cursor": value})
        assert response.status_code == 422, (value, response.text)
        assert response.json()["errors"][0]["loc"] == ["query", "cursor"], value
    # A cursor of another sort, or other filters, is refused by name as well.
    for other in ({"sort": "-due_at"}, {"sort": "due_at", "priority": "high"}):
        response = await anyone.get(TASKS, params={**other, "cursor": cursor})
        assert response.status_code == 422, (other, response.text)
        assert response.json()["errors"][0]["loc"] == ["query", "cursor"], other
    assert (await anyone.get(TASKS, params={"sort": "due_at", "cursor": cursor})).status_code == 200


@pytest.mark.parametrize(
    ("path", "name"),
    [(TASKS, "limit"), (CHANGES, "limit"), (INBOX, "limit")],
)
@pytest.mark.parametrize("limit", ["0", "-1", "100000", "x", str(2**64)])
async def test_a_bad_page_size_is_a_422_naming_it(anyone, path, name, limit):
    response = await anyone.get(path, params={name: limit})
    assert response.status_code == 422, (path, response.text)
    assert response.json()["errors"][0]["loc"] == ["query", name], path
