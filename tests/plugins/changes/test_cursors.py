"""Task: T-219
Spec: specs/api/rest-endpoints.md §Changes, §Limits

Every cursor the API takes is range-checked, and a malformed or out-of-range one is a 422
whose `loc` names it: the feed's `since` and `Last-Event-ID`, the reminders inbox's `before`,
the tasks list's `cursor`. Hypothesis draws the rest: never a 5xx.
"""

import asyncio
import base64

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


CURSORS = st.sampled_from(BAD) | st.text(max_size=60) | st.builds(
    b64,
    st.builds(
        "{}.{}".format,
        st.integers(-(10**25), 10**25),
        st.integers(-(10**25), 10**25),
    ),
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
