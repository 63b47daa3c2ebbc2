"""Task: T-108
Spec: specs/api/rest-endpoints.md §Errors

Property: whatever a client sends, the answer is 2xx or 4xx, never 5xx. Hypothesis draws
bodies, forms and query strings for every request model — `Registration`, `Credentials` (JSON
and the `/token` form), `RefreshRequest`, `LogoutRequest`, `TaskCreate`, `TaskUpdate`,
`TaskQuery` — mixing plausible values with NUL characters, lone surrogates, odd unicode,
datetimes UTC cannot hold or without an offset, huge numbers, NaN, wrong types and unknown
fields, and sends them through the app in-process, on a real database.

Bounded to run in seconds: few examples, derandomized (the same examples on every run, so a
failure reproduces), no deadline (hashing a password takes tens of milliseconds).
"""

import base64
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.plugins.tasks.filters import TaskQuery
from app.plugins.tasks.pagination import fingerprint
from tests.plugins.tasks.conftest import TASKS, User, sign_up

AUTH = "/api/v1/auth"
BOUNDED = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,  # derandomized: nothing to remember between runs
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Registrations and logins hash a password (tens of milliseconds each): fewer of them.
HASHING = settings(BOUNDED, max_examples=40)

# -- values ----------------------------------------------------------------------------------
# Hypothesis tries the first branch of each choice first, so the nastiest values lead.

NUMBERS = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),  # NaN and Infinity: json.dumps writes them
)
# A character that makes a plausible value odd; a lone surrogate only travels in JSON.
ODD = ["\x00", "", "\ufeff", "\u0301", "\u202e", "🙂"]
ODD_IN_JSON = st.sampled_from([*ODD, "\ud800"])
ODD_IN_FORMS = st.sampled_from(ODD)
NASTY = ["\x00", "", " ", "a\x00b", "🙂" * 70, "x" * 3000, "0001-01-01T00:00:00+14:00", "null"]
# Any text a URL or a form can carry (no surrogates), NULs included.
PLAIN_TEXT = st.sampled_from(NASTY) | st.text(max_size=40)
JSON_TEXT = PLAIN_TEXT | st.text(st.characters(categories=["Cs"]), min_size=1, max_size=3)
ANY_JSON = st.recursive(
    st.none() | st.booleans() | NUMBERS | JSON_TEXT,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def odd(template: str, characters: st.SearchStrategy[str] = ODD_IN_JSON) -> Any:
    """`template` with an odd character in its `{}`: valid in shape, odd in content."""
    return st.builds(template.format, characters)


def json_text(template: str) -> Any:
    """A JSON string field: a plausible value made odd, nasty text, or any JSON at all."""
    return odd(template) | JSON_TEXT | ANY_JSON


OFFSETS = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
DATETIME_TEXT = st.one_of(
    st.sampled_from(
        [
            "0001-01-01T00:00:00+14:00",  # year 0 in UTC
            "9999-12-31T23:59:59-14:00",  # year 10000 in UTC
            "2030-01-01T00:00:00",  # no offset
            "2030-02-30T00:00:00Z",
            "2030-01-01T00:00:00+24:00",
            "now",
        ]
    ),
    # Every instant Python can write, with any offset or none.
    st.datetimes(min_value=datetime.min, max_value=datetime.max, timezones=st.none() | OFFSETS).map(
        datetime.isoformat
    ),
)
EMAILS = odd("ada{}@example.com") | st.emails() | JSON_TEXT | ANY_JSON
PASSWORDS = odd("correct horse{} battery") | JSON_TEXT | ANY_JSON
PRIORITIES = st.sampled_from(["high", "none", "urgent", ""]) | ANY_JSON
SORTS = st.sampled_from(
    ["title", "-title", "created_at", "-updated_at", "due_at", "-due_at", "priority"]
)


def fields(**values: Any) -> Any:
    """Objects with every field, or some of them and an unknown one; or no object at all."""
    some = st.fixed_dictionaries({}, optional=values)
    unknown = st.dictionaries(st.sampled_from(["id", "user_id", "is_admin"]), ANY_JSON, max_size=1)
    return st.one_of(
        st.fixed_dictionaries(values), st.builds(lambda a, b: a | b, some, unknown), ANY_JSON
    )


REGISTRATIONS = fields(email=EMAILS, password=PASSWORDS, name=json_text("Ada{}"))
CREDENTIALS = fields(email=EMAILS, password=PASSWORDS)
REFRESHES = fields(refresh_token=json_text("token{}"))
LOGOUTS = fields(refresh_token=json_text("token{}"), all=st.booleans() | ANY_JSON)
TASK_FIELDS = {
    "title": json_text("buy milk{}"),
    "description": json_text("{}"),
    "completed": st.booleans() | ANY_JSON,
    "priority": PRIORITIES,
    "due_at": DATETIME_TEXT | NUMBERS | ANY_JSON,
    "tags": st.lists(json_text("home{}"), max_size=25) | ANY_JSON,
}
TASKS_CREATED = fields(**TASK_FIELDS)
TASKS_UPDATED = fields(**TASK_FIELDS)
TOKEN_FORMS = st.fixed_dictionaries(
    {
        "grant_type": st.just("password") | PLAIN_TEXT,
        "username": odd("ada{}@example.com", ODD_IN_FORMS) | PLAIN_TEXT,
        "password": odd("correct horse{} battery", ODD_IN_FORMS) | PLAIN_TEXT,
    }
) | st.dictionaries(st.sampled_from(["grant_type", "username", "password"]), PLAIN_TEXT)


def _cursor(sort: str, value: Any, task_id: Any) -> str:
    payload = {"v": value, "id": task_id, "f": fingerprint(TaskQuery(sort=sort))}
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


# Cursors re-encoded by hand with the right fingerprint, so their values are what is checked.
CURSORS = st.builds(
    lambda sort, value, task_id: (sort, _cursor(sort, value, task_id)),
    SORTS,
    odd("a{}") | DATETIME_TEXT | ANY_JSON,
    st.uuids().map(str) | odd("0b7a4a43{}") | ANY_JSON,
)
QUERY_VALUES = {
    "completed": st.sampled_from(["true", "maybe"]) | PLAIN_TEXT,
    "priority": st.sampled_from(["high", "urgent"]) | PLAIN_TEXT,
    "tag": odd("home{}", ODD_IN_FORMS) | PLAIN_TEXT,
    "q": odd("milk{}", ODD_IN_FORMS) | PLAIN_TEXT,
    "due_before": DATETIME_TEXT | PLAIN_TEXT,
    "due_after": DATETIME_TEXT | PLAIN_TEXT,
    "overdue": st.sampled_from(["true", "false"]) | PLAIN_TEXT,
    "sort": SORTS | PLAIN_TEXT,
    "limit": st.integers(min_value=-5, max_value=10**30).map(str) | PLAIN_TEXT,
    "colour": PLAIN_TEXT,
}


@st.composite
def task_queries(draw: st.DrawFn) -> list[tuple[str, str]]:
    """A query string: some parameters, possibly repeated, and perhaps a forged cursor."""
    names = draw(st.lists(st.sampled_from(sorted(QUERY_VALUES)), max_size=5))
    params = [(name, draw(QUERY_VALUES[name])) for name in names]
    cursor = draw(st.none() | CURSORS | PLAIN_TEXT)
    if isinstance(cursor, tuple):  # a forged cursor, with the sort it was made for
        params += [("sort", cursor[0]), ("cursor", cursor[1])]
    elif cursor is not None:
        params.append(("cursor", cursor))
    return params


# -- sending ---------------------------------------------------------------------------------


async def send_json(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    body: Any,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    # json.dumps escapes every non-ASCII character, so lone surrogates travel as `\ud800`.
    return await client.request(
        method,
        url,
        content=json.dumps(body),
        headers={"content-type": "application/json", **(headers or {})},
    )


def assert_no_server_error(response: httpx.Response) -> None:
    assert response.status_code < 500, (
        response.request.method,
        response.request.url,
        response.text,
    )
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"


@pytest.fixture
async def alice(client: httpx.AsyncClient) -> User:
    return await sign_up(client)


@pytest.fixture
async def task(alice: User) -> dict[str, Any]:
    return await alice.create(title="to be changed")


@HASHING
@given(body=REGISTRATIONS)
async def test_register_never_fails(client, body):
    assert_no_server_error(await send_json(client, "POST", f"{AUTH}/register", body))


@HASHING
@given(body=CREDENTIALS)
async def test_login_never_fails(client, body):
    assert_no_server_error(await send_json(client, "POST", f"{AUTH}/login", body))


@HASHING
@given(form=TOKEN_FORMS)
async def test_token_form_never_fails(client, form):
    assert_no_server_error(await client.post(f"{AUTH}/token", data=form))


@BOUNDED
@given(body=REFRESHES)
async def test_refresh_never_fails(client, body):
    assert_no_server_error(await send_json(client, "POST", f"{AUTH}/refresh", body))


@BOUNDED
@given(body=LOGOUTS)
async def test_logout_never_fails(alice, body):
    headers = {"Authorization": f"Bearer {alice.token}"}
    assert_no_server_error(await send_json(alice.http, "POST", f"{AUTH}/logout", body, headers))


@BOUNDED
@given(body=TASKS_CREATED)
async def test_create_never_fails(alice, body):
    headers = {"Authorization": f"Bearer {alice.token}"}
    assert_no_server_error(await send_json(alice.http, "POST", TASKS, body, headers))


@BOUNDED
@given(body=TASKS_UPDATED, method=st.sampled_from(["PUT", "PATCH"]))
async def test_update_never_fails(alice, task, body, method):
    headers = {"Authorization": f"Bearer {alice.token}"}
    url = f"{TASKS}/{task['id']}"
    assert_no_server_error(await send_json(alice.http, method, url, body, headers))


@BOUNDED
@given(params=task_queries())
async def test_list_never_fails(alice, task, params):
    assert_no_server_error(await alice.get(TASKS, params=params))
