"""Task: T-155, T-260, T-456
Spec: specs/api/rest-endpoints.md §Contract

The OpenAPI document as a client generator reads it: what the kernel adds to every plugin's
routes, the names it gives, and the documentation it requires. What the app really answers is
compared with it in tests/contract/test_conformance.py.
"""

import re
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter

from app.core import Context, hookimpl
from app.core.app import create_app
from app.core.errors import ConfigError
from app.core.plugins.installed import BUILTINS
from app.core.plugins.loading import load
from app.core.plugins.plugins_file import PluginsFile
from app.testing import settings_for

ROOT = Path(__file__).resolve().parents[2]
EVERYTHING = ("health", "auth", "changes", "jobs", "tasks", "notes")
# Every built-in and both examples: the whole house, as an operator may enable it.
THE_HOUSE = (*BUILTINS, "notes", "checklists")


def document(tmp_path: Path, enabled: tuple[str, ...] = EVERYTHING, **extra: object) -> Any:
    settings = settings_for("postgresql://u:p@localhost/x", tmp_path)
    context = load(settings, PluginsFile(enabled=enabled), extra or None)
    return create_app(settings, context).openapi()


@pytest.fixture
def doc(tmp_path: Path) -> Any:
    return document(tmp_path)


def operations(doc: Any) -> dict[str, dict[str, Any]]:
    return {
        operation["operationId"]: operation
        for path in doc["paths"].values()
        for operation in path.values()
    }


def test_operation_ids_are_tag_and_name(doc):
    assert set(operations(doc)) == {
        "health_liveness",
        "health_readiness",
        "auth_register",
        "auth_login",
        "auth_token",
        "auth_refresh",
        "auth_logout",
        "auth_me",
        "auth_password_reset",
        "auth_password_reset_confirm",
        "auth_verify_email",
        "auth_verify_email_confirm",
        "auth_change_password",
        "auth_update_me",
        "auth_sessions",
        "auth_end_session",
        "auth_end_other_sessions",
        "auth_delete_me",
        "auth_export",
        "auth_create_token",
        "auth_tokens",
        "auth_revoke_token",
        "tasks_list",
        "tasks_create",
        "tasks_get",
        "tasks_update",
        "tasks_put",
        "tasks_complete",
        "tasks_delete",
        "tasks_batch",
        "tasks_move",
        "lists_list",
        "lists_create",
        "lists_get",
        "lists_update",
        "lists_delete",
        "lists_move",
        "lists_members",
        "lists_update_member",
        "lists_leave",
        "lists_remove_member",
        "lists_transfer",
        "lists_invite",
        "lists_list_invitations",
        "lists_revoke",
        "lists_accept",
        "changes_list",
        "changes_stream",
        "notes_list",
        "notes_create",
    }


def test_schemas_have_names_a_client_can_use(doc):
    schemas = set(doc["components"]["schemas"])
    assert {"TaskSort", "Priority", "AuthTokenForm", "Problem", "ValidationProblem"} <= schemas
    assert not [name for name in schemas if name.startswith("Body_") or "ApiV1" in name]
    assert not {"HTTPValidationError", "ValidationError"} & schemas
    sort = next(p for p in operations(doc)["tasks_list"]["parameters"] if p["name"] == "sort")
    assert sort["schema"]["$ref"] == "#/components/schemas/TaskSort"


def test_every_error_is_a_problem_and_every_answer_has_a_request_id(doc):
    for name, operation in operations(doc).items():
        for status, response in operation["responses"].items():
            assert response["headers"]["X-Request-ID"]["required"], (name, status)
            if int(status) >= 400:
                schema = "ValidationProblem" if status == "422" else "Problem"
                assert response["content"] == {
                    "application/problem+json": {
                        "schema": {"$ref": f"#/components/schemas/{schema}"}
                    }
                }, (name, status)


def test_validation_problems_always_list_their_errors(doc):
    schema = doc["components"]["schemas"]["ValidationProblem"]
    assert "errors" in schema["required"]


def statuses(doc: Any, name: str) -> set[int]:
    return {int(status) for status in operations(doc)[name]["responses"]}


def test_the_kernel_declares_what_every_route_may_answer(doc):
    # Liveness: public, no database, no body: only the edge's 400.
    assert statuses(doc, "health_liveness") == {200, 400}
    assert statuses(doc, "health_readiness") == {200, 400, 503}
    # A JSON body: 400 (not JSON), 413, 415 (not sent as JSON), 422; public with the database: 503; no 401.
    assert statuses(doc, "auth_register") == {201, 400, 409, 413, 415, 422, 503}
    # 403: an unverified email where the setting requires a verified one.
    assert statuses(doc, "auth_login") == {200, 400, 401, 403, 413, 415, 422, 429, 503}
    # Protected: 401 and 503; a bad {task_id} is a 404, so no 422 without a body, but for a
    # malformed If-None-Match or If-Match (not `*` nor quoted tags).
    assert statuses(doc, "tasks_get") == {200, 304, 400, 401, 404, 422, 503}
    assert statuses(doc, "tasks_complete") == {200, 400, 401, 404, 503}
    assert statuses(doc, "tasks_delete") == {204, 400, 401, 404, 412, 422, 503}
    assert statuses(doc, "tasks_update") == {200, 400, 401, 404, 412, 413, 415, 422, 503}
    assert statuses(doc, "tasks_list") == {200, 400, 401, 422, 503}
    assert statuses(doc, "tasks_create") == {201, 400, 401, 409, 413, 415, 422, 503}
    assert statuses(doc, "auth_logout") == {204, 400, 401, 413, 415, 422, 503}
    # A third-party plugin's routes get the same without writing any of it.
    assert statuses(doc, "notes_create") == {201, 400, 401, 413, 415, 422, 503}
    assert statuses(doc, "notes_list") == {200, 400, 401, 503}


def test_exactly_the_authenticated_operations_carry_the_bearer_requirement(tmp_path):
    doc = document(tmp_path, THE_HOUSE)
    (scheme,) = doc["components"]["securitySchemes"].values()
    assert scheme["flows"]["password"]["tokenUrl"] == "/api/v1/auth/token"
    for name, operation in operations(doc).items():
        unauthorized = operation["responses"].get("401", {}).get("description", "")
        assert ("security" in operation) == unauthorized.startswith("No valid bearer"), name
    assert "security" not in operations(doc)["auth_login"]  # a 401 of its own: credentials
    assert operations(doc)["tasks_list"]["security"] == [{"OAuth2PasswordBearer": ["tasks:read"]}]


def test_a_house_without_protected_routes_declares_no_scheme(tmp_path):
    assert "securitySchemes" not in document(tmp_path, ("health",))["components"]


def headers(doc: Any, name: str, status: int) -> set[str]:
    return set(operations(doc)[name]["responses"][str(status)]["headers"])


def test_response_headers(doc):
    assert headers(doc, "tasks_create", 201) == {
        "X-Request-ID",
        "Location",
        "ETag",
        "Idempotent-Replayed",
    }
    assert headers(doc, "auth_register", 201) == {"X-Request-ID", "Location"}
    assert (
        headers(doc, "tasks_get", 200)
        == headers(doc, "tasks_get", 304)
        == {
            "X-Request-ID",
            "ETag",
        }
    )
    assert headers(doc, "tasks_list", 200) == {"X-Request-ID", "Link"}
    assert not operations(doc)["tasks_list"]["responses"]["200"]["headers"]["Link"]["required"]
    for name in ("tasks_get", "auth_me", "auth_login", "notes_list"):
        assert headers(doc, name, 401) == {"X-Request-ID", "WWW-Authenticate"}
    assert headers(doc, "auth_login", 429) == {"X-Request-ID", "Retry-After"}
    assert headers(doc, "health_readiness", 503) == {"X-Request-ID", "Retry-After"}


def test_every_parameter_and_field_is_described_with_an_example(doc):
    for name, operation in operations(doc).items():
        assert operation.get("summary"), name
        for parameter in operation.get("parameters", []):
            assert parameter.get("description"), (name, parameter["name"])
            assert "example" in parameter, (name, parameter["name"])
    for name, schema in doc["components"]["schemas"].items():
        if "properties" in schema:
            assert schema.get("examples"), name
        for field, field_schema in schema.get("properties", {}).items():
            assert field_schema.get("description"), (name, field)
            assert field_schema.get("examples"), (name, field)


def test_every_operation_says_what_it_does(tmp_path):
    everything = operations(document(tmp_path, THE_HOUSE))
    tags = {name.split("_")[0] for name in everything}
    # jobs serves no route; mcp's (JSON-RPC, well-known) are out of the document; the tasks
    # plugin serves two tags, tasks and lists
    assert tags == {*BUILTINS, "lists", "notes", "checklists"} - {"jobs", "mail", "mcp"}
    undescribed = [
        name for name, operation in everything.items() if not operation.get("description")
    ]
    assert undescribed == []
    for name, operation in everything.items():
        # A sentence or two of its own, not the summary again.
        assert operation["description"] != operation.get("summary"), name
        assert operation["description"].rstrip().endswith((".", ")")), name


def test_bodies_show_written_examples_not_pattern_noise(doc):
    create = operations(doc)["tasks_create"]["requestBody"]["content"]["application/json"]
    schemas = doc["components"]["schemas"]
    assert create["schema"] == {"$ref": "#/components/schemas/TaskCreate"}
    assert create["example"] == schemas["TaskCreate"]["examples"][0]
    assert create["example"]["title"] == "Buy oat milk"
    for operation in operations(doc).values():
        for content in operation.get("requestBody", {}).get("content", {}).values():
            assert content.get("example"), operation["operationId"]
    assert schemas["AuthTokenForm"]["examples"] == [
        {
            "username": "ada@example.com",
            "password": "correct horse battery",
            "grant_type": "password",
        }
    ]


def test_info_has_the_package_version_and_the_conventions(doc, tmp_path):
    assert doc["info"]["version"] == version("todo-api")
    conventions = (ROOT / "specs" / "api" / "conventions.md").read_text()
    assert document(tmp_path, THE_HOUSE)["info"]["description"] == conventions
    # A plugin's section is there only when the plugin is: `doc` has no recurring, reminders
    # or webhooks, and keeps every other section whole.
    described = doc["info"]["description"]
    left_out = ("## Recurring tasks", "## Reminders", "## Webhooks")
    for section in re.split(r"(?m)^(?=## )", conventions):
        assert (section in described) != section.startswith(left_out), section[:40]
    for topic in ("## Errors", "## Pagination", "## ETags", "## Idempotency", "## Rate limits"):
        assert topic in conventions
    # The introduction covers what the built-ins serve beyond tasks, and where it is specified.
    for topic, where in (
        ("## Change feed", "GET /api/v1/changes/stream"),
        ("## Batch", "POST /api/v1/tasks/batch"),
        ("## Recurring tasks", "PUT /api/v1/tasks/{task_id}/recurrence"),
        ("## Reminders", "GET /api/v1/reminders/inbox"),
        ("## Webhooks", "POST /api/v1/webhooks"),
    ):
        assert topic in conventions and where in conventions, topic
    assert "rest-endpoints.md" in conventions


class Clash:
    @hookimpl
    def routers(self, context: Context) -> list[APIRouter]:
        router = APIRouter(prefix="/clash", tags=["clash"])

        @router.get("/a", name="same")
        async def first() -> None: ...

        @router.get("/b", name="same")
        async def second() -> None: ...

        return [router]


def test_two_operations_with_one_id_stop_start_up(tmp_path):
    with pytest.raises(ConfigError, match="operation id 'clash_same'"):
        document(tmp_path, ("health", "auth"), clash=Clash())
