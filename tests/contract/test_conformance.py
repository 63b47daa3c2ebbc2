"""Task: T-159
Spec: specs/api/rest-endpoints.md §Contract

The app answers what its OpenAPI document declares, and declares what it answers: schemathesis
generates requests from the document (valid and invalid ones, a fixed seed, a bounded number)
for every operation of the built-in plugins, sends them in-process as one of two users or as
nobody, and checks every answer: its status is declared, and its media type, body and headers
are the ones declared for that status. No 5xx.

Generated ids and credentials name nothing, so a share of the requests aims at real ones
instead: a task of the caller's own (fresh for each request, so writes and deletes find it) or
another user's (a 404), with its real `ETag` in conditional requests; a registered user's
credentials or a new one; a live refresh token.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
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
from app.core.plugins import load
from app.core.plugins_file import DEFAULT_ENABLED, PluginsFile
from tests.conftest import settings_for

CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    not_a_server_error,
]
EXAMPLES = {GenerationMode.POSITIVE: 25, GenerationMode.NEGATIVE: 10}
TASKS = "/api/v1/tasks"
PASSWORD = "correct horse battery"


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
    settings = settings_for(database_url, tmp_path)
    app = create_app(settings, load(settings, PluginsFile(enabled=DEFAULT_ENABLED)))
    yield app
    asgi.shutdown_lifespans()  # the pool closes before the test's database is dropped


def sign_up(client: Any, name: str) -> Caller:
    credentials = {"email": f"{name}@example.com", "password": PASSWORD}
    assert client.post("/api/v1/auth/register", json=credentials).status_code == 201
    login = client.post("/api/v1/auth/login", json=credentials)
    return Caller(name, login.json()["access_token"])


def test_every_operation_answers_as_declared(app: Any) -> None:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    client = asgi.get_client(app)
    with client:
        alice, bob = sign_up(client, "alice"), sign_up(client, "bob")
        bobs_task = client.post(TASKS, json={"title": "Bob's"}, headers=bob.headers).json()["id"]
        for _ in range(3):  # enough for a page with a `Link`
            client.post(TASKS, json={"title": "Alice's"}, headers=alice.headers)
        # Weighted towards requests that can succeed: most of them reach the real work.
        callers = [alice, alice, alice, bob, Caller("nobody"), Caller("forger", "not-a-token")]

        def fresh_task() -> Any:
            return client.post(TASKS, json={"title": "fresh"}, headers=alice.headers)

        credentials = {"email": "alice@example.com", "password": PASSWORD}
        real_bodies = {
            "POST /api/v1/auth/register": lambda: {
                "email": f"{uuid.uuid4().hex}@example.com",
                "password": PASSWORD,
            },
            "POST /api/v1/auth/login": lambda: credentials,
            "POST /api/v1/auth/token": lambda: {
                "username": "alice@example.com",
                "password": PASSWORD,
            },
            "POST /api/v1/auth/refresh": lambda: {
                "refresh_token": client.post("/api/v1/auth/login", json=credentials).json()[
                    "refresh_token"
                ]
            },
        }

        failures: list[str] = []
        seen: dict[str, set[int]] = {}
        operations = [result.ok() for result in schema.get_all_operations()]
        for operation in operations:
            for mode, examples in EXAMPLES.items():
                real = _Real(bobs_task, fresh_task, real_bodies.get(operation.label))
                run = _runner(operation, mode, examples, callers, real)
                run(failures, seen.setdefault(operation.label, set()))
    assert not failures, "\n\n".join(failures)
    # The run reached each operation's real work, not only its refusals.
    for label, statuses in seen.items():
        assert any(200 <= status < 300 for status in statuses), (label, statuses)
    assert len(seen) == len(operations) == 15


@dataclass
class _Real:
    """What a request may aim at instead of what was generated."""

    bobs_task: str
    fresh_task: Callable[[], Any]
    body: Callable[[], Any] | None


def _runner(
    operation: Any, mode: GenerationMode, examples: int, callers: list[Caller], real: _Real
) -> Any:
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
        caller=st.sampled_from(callers),
        target=st.sampled_from(["generated", "own", "own", "others"]),
        condition=st.sampled_from([None, None, "current", "stale"]),
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
        if target == "own" and real.body is not None:
            case.body = real.body()
        if case.path_parameters and "task_id" in case.path_parameters and target != "generated":
            task = real.fresh_task() if target == "own" else None
            case.path_parameters["task_id"] = task.json()["id"] if task else real.bobs_task
            if task and condition:
                etag = task.headers["ETag"]
                tag = etag if condition == "current" else etag.replace('.1"', '.9"')
                case.headers["If-None-Match" if case.method == "GET" else "If-Match"] = tag
        response = case.call()
        seen.add(response.status_code)
        try:
            case.validate_response(response, checks=CHECKS)
        except Exception as failure:
            if len(failures) < 20:
                failures.append(f"{operation.label} as {caller.name}: {failure}")

    def run_unless_impossible(failures: list[str], seen: set[int]) -> None:
        try:
            run(failures, seen)
        except Unsatisfiable:  # nothing to make invalid: an operation without input
            assert mode is GenerationMode.NEGATIVE, operation.label

    return run_unless_impossible
