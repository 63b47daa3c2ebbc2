"""Task: T-109, T-159, T-406
Spec: specs/api/rest-endpoints.md §Contract

The app answers what its OpenAPI document declares, and declares what it answers: schemathesis
generates requests from the document (valid and invalid ones, a fixed seed, a bounded number)
for every operation of the built-in plugins, sends them in-process, on a real database, as one
of two users, as nobody or with a forged token, and checks every answer: its status is declared,
and its media type, body and headers are the ones declared for that status. No 5xx but a
declared 503. (This is the one schemathesis suite: issue 8's, which checked only what the
document declared truthfully then, is folded in here.)

Generated ids and credentials name nothing, so a share of the requests aims at real ones
instead: a task of the caller's own (fresh for each request, so writes and deletes find it) or
another user's (a 404), with its real `ETag` in conditional requests; a registered user's
credentials or a new one; a live refresh token. And the answers only a state of the server
gives are brought about for the auth routes that have them (and the sharing routes reach a
list with a member, a live invitation, a token to accept): an account locked by the throttle
(429 with `Retry-After` on login and token), every hashing slot taken (503 with `Retry-After`
on register, login and token), a grant type other than `password` (400 on token). The run
must have seen each of them, and a 2xx from every operation.
"""

import asyncio
import base64
import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.core.app import create_app
from app.core.plugins.loading import load
from app.core.plugins.plugins_file import DEFAULT_ENABLED, PluginsFile
from app.testing import settings_for


def no_server_error_but_a_503(ctx: Any, response: Any, case: Any) -> None:
    """No 5xx, but a 503 (the database, or hashing, busy): `status_code_conformance` checks
    that the operation declares it, and `response_headers_conformance` its `Retry-After`."""
    if response.status_code != 503:
        not_a_server_error(ctx, response, case)


CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    no_server_error_but_a_503,
]
EXAMPLES = {GenerationMode.POSITIVE: 30, GenerationMode.NEGATIVE: 15}
# Requests per scenario (a state of the server, a real body or target), only the caller varies.
SCENARIO_EXAMPLES = 4
TASKS = "/api/v1/tasks"
LISTS = "/api/v1/lists"
WEBHOOKS = "/api/v1/webhooks"
# A webhook URL registration accepts: loopback is allowed in this app, and nothing is sent to it
# (no worker runs).
HOOK_URL = "http://127.0.0.1:9/hook"
AUTH = "/api/v1/auth"
TOKENS = f"{AUTH}/tokens"
FEEDS = "/api/v1/calendar/feeds"
REMINDERS = "/api/v1/reminders"
INVITATIONS = "/api/v1/invitations"
PASSWORD = "correct horse battery"
LOCKED = "carol@example.com"
# A lockout that outlasts the run, so the locked account stays locked (the default is 2 s).
AUTH_SETTINGS = {"lockout_seconds": 3600, "max_lockout_seconds": 3600}
# What some operations must have answered, besides a 2xx.
MUST_SEE = {
    f"POST {AUTH}/register": {409, 422, 503},
    f"POST {AUTH}/login": {401, 422, 429, 503},
    f"POST {AUTH}/token": {400, 401, 422, 429, 503},
    f"POST {AUTH}/refresh": {401, 422},
    f"POST {AUTH}/logout": {204, 400, 401},
    f"POST {AUTH}/password-reset/confirm": {400, 422},
    f"POST {AUTH}/verify-email/confirm": {400, 422},
    f"GET {TASKS}/{{task_id}}": {304, 404},
}


@dataclass
class Caller:
    """Who sends a request: a user (with a token), or nobody."""

    name: str
    token: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Any:
    """The built-in plugins on this test's database; schemathesis runs its lifespan."""
    settings = settings_for(database_url, tmp_path, {"OUTBOUND_ALLOW_HOSTS": "127.0.0.1"})
    # No job worker in the app: it has no routes, and its polling would draw on `random` while
    # hypothesis generates (which hypothesis warns about).
    tables = {
        "auth": AUTH_SETTINGS,
        "jobs": {"worker": False},
        "webhooks": {"max_endpoints": 1000},
        "changes": {"poll_seconds": 0.2},
    }
    plugins = PluginsFile(enabled=DEFAULT_ENABLED, tables=tables)  # every built-in
    app = create_app(settings, load(settings, plugins))
    yield app
    asgi.shutdown_lifespans()  # the pool closes before the test's database is dropped


def sign_up(client: Any, name: str) -> Caller:
    credentials = {"email": f"{name}@example.com", "password": PASSWORD}
    assert client.post(f"{AUTH}/register", json=credentials).status_code == 201
    login = client.post(f"{AUTH}/login", json=credentials)
    return Caller(name, login.json()["access_token"])


def lock_out(client: Any, email: str) -> None:
    """Guess `email`'s password until the throttle locks the account."""
    wrong = {"email": email, "password": "not the password"}
    answers = [client.post(f"{AUTH}/login", json=wrong).status_code for _ in range(8)]
    assert answers[-1] == 429, answers


@contextmanager
def hashing_busy(app: Any) -> Iterator[None]:
    """Every hashing slot taken for as long as this lasts, and a queue of a hundredth of a
    second: a registration or login waiting for one gets its 503. (Requests are sent one at a
    time, so the slots are otherwise always free.)"""
    passwords = app.state.context.state["auth"].passwords
    slots, queue_seconds = passwords._slots, passwords.queue_seconds
    passwords._slots, passwords.queue_seconds = asyncio.Semaphore(0), 0.01
    try:
        yield
    finally:
        passwords._slots, passwords.queue_seconds = slots, queue_seconds


def test_every_operation_answers_as_declared(app: Any) -> None:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    client = asgi.get_client(app)
    with client:
        alice, bob = sign_up(client, "alice"), sign_up(client, "bob")
        carol = sign_up(client, "carol")
        # Dave's password is changed (to itself) and his verification asked for only by the
        # scenarios below: the random draws lock Alice's out with wrong passwords.
        dave = sign_up(client, "dave")
        tokens = _AccountTokens(client, app)
        # Accounts for `DELETE /auth/me` to delete, one per request of its scenario.
        doomed = [sign_up(client, f"doomed{n}") for n in range(SCENARIO_EXAMPLES)]
        # A session nobody's logout ends before `DELETE /auth/sessions/{id}` ends it.
        sam = sign_up(client, "sam")
        lock_out(client, LOCKED)
        bobs_task = client.post(TASKS, json={"title": "Bob's"}, headers=bob.headers).json()["id"]
        bobs_list = client.post(LISTS, json={"name": "Bob's"}, headers=bob.headers).json()["id"]
        hooks = {user.name: _webhook_with_delivery(client, user) for user in (alice, bob)}
        for _ in range(3):  # enough for a page with a `Link`
            client.post(TASKS, json={"title": "Alice's"}, headers=alice.headers)
        # Weighted towards requests that can succeed: most of them reach the real work.
        anyone = _Draw(
            callers=[alice, alice, alice, bob, Caller("nobody"), Caller("forger", "not-a-token")],
            targets=["generated", "own", "own", "others"],
            conditions=[None, None, "current", "stale"],
        )

        def fresh_task() -> Any:
            # Due, and recurring (the recurring plugin's routes need both to reach their work).
            fresh = {"title": "fresh", "due_at": "2030-01-02T09:00:00Z"}
            created = client.post(TASKS, json=fresh, headers=alice.headers)
            recurs = {"rule": "FREQ=DAILY", "timezone": "Europe/Berlin"}
            url = f"{TASKS}/{created.json()['id']}/recurrence"
            assert client.put(url, json=recurs, headers=alice.headers).status_code == 200
            return created

        def fresh_list() -> Any:
            return client.post(LISTS, json={"name": "fresh"}, headers=alice.headers)

        def fresh_webhook() -> str:
            answer = client.post(WEBHOOKS, json={"url": HOOK_URL}, headers=alice.headers)
            return str(answer.json()["id"])

        token = {"name": "script", "scopes": ["tasks:read"]}
        bobs_token = client.post(TOKENS, json=token, headers=bob.headers).json()["id"]

        def token_id(own: bool) -> str:
            # One of Alice's (made when she has none, so her 100 are never all taken), or Bob's.
            if not own:
                return str(bobs_token)
            held = client.get(TOKENS, headers=alice.headers).json()
            made = (
                held[0] if held else client.post(TOKENS, json=token, headers=alice.headers).json()
            )
            return str(made["id"])

        feed = {"name": "Due"}
        bobs_feed = client.post(FEEDS, json=feed, headers=bob.headers).json()["id"]
        subscribed = client.post(FEEDS, json=feed, headers=alice.headers).json()
        secret = subscribed["url"].rsplit("/", 1)[1].removesuffix(".ics")

        def calendar(parameters: dict[str, Any], own: bool) -> None:
            # Bob's feed, or one of Alice's besides the subscribed one (made when she has
            # none, so her 20 are never all taken); the subscribed one's secret for `.ics`.
            if "token" in parameters:
                parameters["token"] = secret if own else "no-such-feed"
            if "feed_id" in parameters:
                held = [
                    found["id"]
                    for found in client.get(FEEDS, headers=alice.headers).json()
                    if found["id"] != subscribed["id"]
                ]
                spare = held[0] if held else None
                if spare is None:
                    spare = client.post(FEEDS, json=feed, headers=alice.headers).json()["id"]
                parameters["feed_id"] = spare if own else bobs_feed

        reminders = _Reminders(client, app, alice, bob, token_id)
        sharing = _Sharing(client, alice, bob, carol)

        credentials = {"email": "alice@example.com", "password": PASSWORD}

        def form(email: str, grant_type: str = "password") -> dict[str, str]:
            return {"grant_type": grant_type, "username": email, "password": PASSWORD}

        def new_account() -> dict[str, str]:
            return {"email": f"{uuid.uuid4().hex}@example.com", "password": PASSWORD}

        real_bodies = {
            f"POST {TOKENS}": lambda: token,
            f"PUT {TASKS}/{{task_id}}/recurrence": lambda: {
                "rule": "FREQ=WEEKLY",
                "timezone": "UTC",
            },
            f"POST {AUTH}/register": new_account,
            f"POST {AUTH}/login": lambda: credentials,
            f"POST {AUTH}/token": lambda: form(credentials["email"]),
            f"POST {TASKS}/{{task_id}}/reminders": lambda: {"at": "2030-01-02T09:00:00Z"},
            f"POST {TASKS}/{{task_id}}/move": lambda: {"after": None},
            f"POST {LISTS}": lambda: {"name": "Errands"},
            f"PATCH {LISTS}/{{list_id}}": lambda: {"name": "Renamed"},
            f"POST {LISTS}/{{list_id}}/move": lambda: {"after": None},
            f"POST {WEBHOOKS}": lambda: {"url": HOOK_URL},
            f"PATCH {LISTS}/{{list_id}}/members/{{member_id}}": lambda: {"role": "viewer"},
            f"POST {LISTS}/{{list_id}}/invitations": lambda: {"role": "viewer"},
            f"POST {LISTS}/{{list_id}}/transfer": lambda: {"user_id": sharing.carol_id},
            f"POST {AUTH}/password-reset/confirm": lambda: {
                "token": tokens.reset(),
                "password": PASSWORD,
            },
            f"POST {AUTH}/verify-email/confirm": lambda: {"token": tokens.verify()},
            f"POST {AUTH}/password": lambda: {
                "current_password": PASSWORD,
                "new_password": PASSWORD,
            },
            # A generated email would be Alice's new one; a name changes nothing others use.
            f"PATCH {AUTH}/me": lambda: {"name": "Alice"},
            f"POST {AUTH}/refresh": lambda: {
                "refresh_token": client.post(f"{AUTH}/login", json=credentials).json()[
                    "refresh_token"
                ]
            },
        }
        # Answers only a state of the server gives: each brought about for a few requests.
        own = _Draw(callers=anyone.callers, targets=["own"], conditions=[None])
        busy = replace(own, state=lambda: hashing_busy(app))
        scenarios = {
            f"POST {AUTH}/register": [busy],
            f"POST {AUTH}/login": [
                busy,
                replace(own, body=lambda: {**credentials, "email": LOCKED}),
            ],
            f"POST {AUTH}/token": [
                busy,
                replace(own, body=lambda: form(LOCKED)),
                replace(own, body=lambda: form(credentials["email"], "client_credentials")),
            ],
            # Alice's own task, unchanged since she got its tag (304), and with no tag (200):
            # the random draws reach a 200 only when caller, target and condition all line up.
            f"GET {TASKS}/{{task_id}}": [
                _Draw([alice], ["own"], ["current"]),
                _Draw([alice], ["own"], [None]),
            ],
            f"POST {AUTH}/password": [_Draw([dave], ["own"], [None])],
            f"POST {AUTH}/verify-email": [_Draw([dave], ["own"], [None])],
            # An account deleting itself with its password.
            f"DELETE {AUTH}/me": [
                _Draw(doomed, ["own"], [None], body=lambda: {"password": PASSWORD})
            ],
            # Sam's own session.
            f"DELETE {AUTH}/sessions/{{session_id}}": [_Draw([sam], ["own"], [None])],
            # Alice's own endpoint and delivery.
            f"POST {WEBHOOKS}/{{webhook_id}}/deliveries/{{delivery_id}}/redeliver": [
                _Draw([alice], ["own"], [None])
            ],
        }

        failures: list[str] = []
        seen: dict[str, set[int]] = {}
        operations = [result.ok() for result in schema.get_all_operations()]
        for operation in operations:
            statuses = seen.setdefault(operation.label, set())
            real = _Real(
                bobs_task,
                fresh_task,
                bobs_list,
                fresh_list,
                real_bodies.get(operation.label),
                hooks,
                fresh_webhook,
                reminders,
                sharing,
                {user.name: _session(user) for user in (alice, bob, sam)},
                calendar,
            )
            for mode, examples in EXAMPLES.items():
                _runner(operation, mode, examples, anyone, real)(failures, statuses)
            for draw in scenarios.get(operation.label, []):
                run = _runner(operation, GenerationMode.POSITIVE, SCENARIO_EXAMPLES, draw, real)
                run(failures, statuses)
    assert not failures, "\n\n".join(failures)
    # The run reached each operation's real work, not only its refusals, and the answers that
    # take a state of the server.
    for label, statuses in seen.items():
        assert any(200 <= status < 300 for status in statuses), (label, statuses)
        assert MUST_SEE.get(label, set()) <= statuses, (label, statuses)
    # feed, batch and lists 25, sharing 9, account changes 6, sessions, account deletion and
    # export 5, personal tokens 3, recurring 4, reminders 6, webhooks 8, quick add 1, calendar 4
    assert len(seen) == len(operations) == 25 + 9 + 6 + 5 + 3 + 4 + 6 + 8 + 1 + 4


def _session(user: Caller) -> str:
    """The session (`sid`) of `user`'s access token, read without verifying it."""
    payload = str(user.token).split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sid"])


def _webhook_with_delivery(client: Any, user: Caller) -> dict[str, str]:
    """An endpoint of `user`'s with one delivery in its log (a task created, dispatched by the
    app's change consumer; no worker sends it): targets for the delivery routes."""
    hook = client.post(WEBHOOKS, json={"url": HOOK_URL}, headers=user.headers).json()["id"]
    client.post(TASKS, json={"title": "Hooked"}, headers=user.headers)
    deadline = time.monotonic() + 20
    while not (log := client.get(f"{WEBHOOKS}/{hook}/deliveries", headers=user.headers).json()):
        assert time.monotonic() < deadline, "no delivery was dispatched"
        time.sleep(0.1)
    return {"webhook_id": hook, "delivery_id": log[0]["id"]}


@dataclass
class _Draw:
    """What a request is drawn from besides the generated case: who sends it, what it aims at
    (`generated`, `own`: the caller's real task or body, `others`: Bob's task), which tag a
    conditional request sends (`current`, `stale`, none); a body and a state of the server
    (a context manager, around the request) override the generated body and the usual state."""

    callers: list[Caller]
    targets: list[str]
    conditions: list[str | None]
    body: Callable[[], Any] | None = None
    state: Callable[[], Any] = nullcontext


@dataclass
class _Real:
    """What a request may aim at instead of what was generated."""

    bobs_task: str
    fresh_task: Callable[[], Any]
    bobs_list: str
    fresh_list: Callable[[], Any]
    body: Callable[[], Any] | None
    hooks: dict[str, dict[str, str]]  # per user: a webhook endpoint and a delivery of it
    fresh_webhook: Callable[[], str]
    # Fills real reminders, inbox items and personal tokens into path parameters (kept out of
    # `run`, whose source seeds hypothesis: the other operations draw what they always drew).
    reminders: "_Reminders | None" = None
    sharing: "_Sharing | None" = None
    sessions: dict[str, str] | None = None  # per user: the session of their access token
    # Fills a real calendar feed (`feed_id`) or its secret (`token`): Alice's, or Bob's.
    calendar: Callable[[dict[str, Any], bool], None] | None = None


class _Reminders:
    """Real reminders and inbox items (path parameters `reminder_id`, `item_id`): Alice's fresh
    ones, or Bob's."""

    def __init__(
        self, client: Any, app: Any, alice: Caller, bob: Caller, token_id: Callable[[bool], str]
    ) -> None:
        self.client, self.app, self.token_id = client, app, token_id
        self.bobs = {"reminder_id": self.reminder(bob), "item_id": self.item(bob)}
        self.alice = alice

    def reminder(self, caller: Caller, at: str = "2030-01-02T09:00:00Z") -> str:
        task = self.client.post(TASKS, json={"title": "remind me"}, headers=caller.headers)
        url = f"{TASKS}/{task.json()['id']}/reminders"
        return str(self.client.post(url, json={"at": at}, headers=caller.headers).json()["id"])

    def item(self, caller: Caller) -> str:
        reminder = self.reminder(caller, "2020-01-01T00:00:00Z")
        asyncio.run(self._fire())
        items = self.client.get(f"{REMINDERS}/inbox", headers=caller.headers).json()
        return str(next(item["id"] for item in items if item["reminder_id"] == reminder))

    async def _fire(self) -> None:
        """Fire what is due, from a pool of its own (the app's lives on the client's loop)."""
        from app.core import Database
        from app.core.app import database_url
        from app.core.db.urls import engine_options
        from app.core.settings import StatementCache
        from app.plugins.reminders.firing import fire_due

        url = database_url(self.app.state.context.settings)
        database = await Database.open(engine_options(url), 1, StatementCache.auto)
        try:
            await fire_due(database, datetime.now(UTC), 100)
        finally:
            await database.close()

    def fill(self, parameters: dict[str, Any], own: bool) -> None:
        if "reminder_id" in parameters:
            parameters["reminder_id"] = (
                self.reminder(self.alice) if own else self.bobs["reminder_id"]
            )
        if "item_id" in parameters:
            parameters["item_id"] = self.item(self.alice) if own else self.bobs["item_id"]
        if "token_id" in parameters:  # a personal token: Alice's own, or Bob's
            parameters["token_id"] = self.token_id(own)


class _Sharing:
    """Real lists with a member, invitations and tokens (path parameters `member_id`,
    `invitation_id`, `token`, and the list of `members/me` and `transfer`): Alice's fresh ones
    with Carol as a member, or Bob's."""

    def __init__(self, client: Any, alice: Caller, bob: Caller, carol: Caller) -> None:
        self.client, self.alice, self.bob, self.carol = client, alice, bob, carol
        self.carol_id = str(client.get(f"{AUTH}/me", headers=carol.headers).json()["id"])

    def invitation(self, owner: Caller, list_id: str) -> dict[str, str]:
        url = f"{LISTS}/{list_id}/invitations"
        made = self.client.post(url, json={"role": "editor"}, headers=owner.headers).json()
        return {"invitation_id": made["id"], "token": made["token"]}

    def shared(self, owner: Caller, member: Caller) -> str:
        """A fresh list of `owner`'s with `member` in it."""
        made = self.client.post(LISTS, json={"name": "shared"}, headers=owner.headers)
        list_id = str(made.json()["id"])
        token = self.invitation(owner, list_id)["token"]
        accepted = self.client.post(f"{INVITATIONS}/{token}/accept", headers=member.headers)
        assert accepted.status_code == 200, accepted.text
        return list_id

    def fill(self, label: str, parameters: dict[str, Any], own: bool) -> None:
        owner = self.alice if own else self.bob
        if "member_id" in parameters or label.endswith("/transfer"):
            parameters["list_id"] = self.shared(owner, self.carol)
            if "member_id" in parameters:
                parameters["member_id"] = self.carol_id
        elif label.endswith("/members/me"):
            # Alice leaves a list of Bob's she is in, or one she is not in.
            parameters["list_id"] = self.shared(self.bob, self.alice if own else self.carol)
        if "invitation_id" in parameters:
            parameters["list_id"] = self.shared(owner, self.carol)
            parameters.update(
                invitation_id=self.invitation(owner, parameters["list_id"])["invitation_id"]
            )
        if "token" in parameters:
            # Alice accepts a fresh invitation to a list of Bob's (or Bob one to his own).
            list_id = self.shared(self.bob, self.carol)
            parameters["token"] = self.invitation(self.bob, list_id)["token"]


class _AccountTokens:
    """Live one-time tokens of fresh accounts, issued as the mail job issues them (the app runs
    no worker)."""

    def __init__(self, client: Any, app: Any) -> None:
        self.client, self.app = client, app

    def reset(self) -> str:
        email = f"{uuid.uuid4().hex}@example.com"
        body = {"email": email, "password": PASSWORD}
        assert self.client.post(f"{AUTH}/register", json=body).status_code == 201
        return asyncio.run(self._issue(lambda db, tokens: tokens.issue_reset(db, email)))

    def verify(self) -> str:
        body = {"email": f"{uuid.uuid4().hex}@example.com", "password": PASSWORD}
        user = self.client.post(f"{AUTH}/register", json=body).json()["id"]
        return asyncio.run(self._issue(lambda db, tokens: tokens.issue_verification(db, user)))

    async def _issue(self, issue: Any) -> str:
        """From a pool of its own (the app's lives on the client's loop)."""
        from app.core import Database
        from app.core.app import database_url
        from app.core.db.urls import engine_options
        from app.core.settings import StatementCache
        from app.plugins.auth import account_tokens

        url = database_url(self.app.state.context.settings)
        database = await Database.open(engine_options(url), 1, StatementCache.auto)
        try:
            issued = await issue(database, account_tokens)
        finally:
            await database.close()
        return str(issued[0])


def _runner(operation: Any, mode: GenerationMode, examples: int, draw: _Draw, real: _Real) -> Any:
    @settings(
        max_examples=examples,
        derandomize=True,  # the same requests every run
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=operation.as_strategy(generation_mode=mode),
        caller=st.sampled_from(draw.callers),
        target=st.sampled_from(draw.targets),
        condition=st.sampled_from(draw.conditions),
    )
    def run(
        failures: list[str],
        seen: set[int],
        case: Any,
        caller: Caller,
        target: str,
        condition: str | None,
    ) -> None:
        case.headers = {**(case.headers or {}), **caller.headers}
        if caller.token is None:
            case.headers.pop("Authorization", None)
        body = draw.body or real.body
        if target == "own" and body is not None:
            case.body = body()
        for name, fresh, others in (
            ("task_id", real.fresh_task, real.bobs_task),
            ("list_id", real.fresh_list, real.bobs_list),
        ):
            if case.path_parameters and name in case.path_parameters and target != "generated":
                made = fresh() if target == "own" else None
                case.path_parameters[name] = made.json()["id"] if made else others
                if made and condition:
                    etag = made.headers["ETag"]
                    tag = etag if condition == "current" else etag.replace('.1"', '.9"')
                    case.headers["If-None-Match" if case.method == "GET" else "If-Match"] = tag
        if case.path_parameters and real.reminders and target != "generated":
            real.reminders.fill(case.path_parameters, own=target == "own")
        if case.path_parameters and real.sharing and target != "generated":
            real.sharing.fill(operation.label, case.path_parameters, own=target == "own")
        parameters = case.path_parameters or {}
        if "session_id" in parameters and real.sessions and target != "generated":
            # The caller's own (its first end is a 204, the others 404s), or Bob's.
            owner = caller.name if target == "own" else "bob"
            parameters["session_id"] = real.sessions.get(owner, "no-such-session")
        if real.calendar and "/calendar/" in operation.label and target != "generated":
            real.calendar(parameters, target == "own")
        if "webhook_id" in parameters and target != "generated":
            # Bob's, or Alice's own: the endpoint with a delivery for the delivery routes, a
            # fresh one otherwise (a DELETE or PATCH must not spend the shared one).
            hook = real.hooks["bob" if target == "others" else "alice"]
            if "delivery_id" in parameters or target == "others":
                parameters.update({name: hook[name] for name in parameters})
            else:
                parameters["webhook_id"] = real.fresh_webhook()
        with draw.state():
            response = case.call()
        seen.add(response.status_code)
        try:
            case.validate_response(response, checks=CHECKS)
        # A failure is an AssertionError, several of them a (Base)ExceptionGroup.
        except (AssertionError, BaseExceptionGroup) as failure:
            if len(failures) < 20:
                failures.append(f"{operation.label} as {caller.name}: {failure}")

    def run_unless_impossible(failures: list[str], seen: set[int]) -> None:
        try:
            run(failures, seen)
        except Unsatisfiable:  # nothing to make invalid: an operation without input
            assert mode is GenerationMode.NEGATIVE, operation.label

    return run_unless_impossible
