"""Task: T-150, T-151, T-258, T-404, T-456
Spec: specs/api/rest-endpoints.md §Contract; specs/features/plugins.md §Plugin author API;
specs/features/authentication.md §Scopes

The OpenAPI document, completed once from what the kernel knows about each route.
"""

import re
from collections.abc import Collection, Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from pydantic.json_schema import models_json_schema

from app.core.errors import ConfigError
from app.core.http import problems
from app.core.http.dependencies import AUTHENTICATING, USING_DATABASE
from app.core.http.marks import is_token_endpoint, required_scope
from app.core.http.scopes import known_scopes

REF = "#/components/schemas/"
# The bearer token, as an OAuth2 password flow: it makes the docs page's Authorize button work.
# Which route issues tokens is the authentication plugin's to say (`@token_endpoint`).
SCHEME = "OAuth2PasswordBearer"
CONVENTIONS = "specs/api/conventions.md"
# Kernel-made schemas an operation carries along (app.core.http.parameters): moved into the components.
SCHEMAS_KEY = "x-todo-api-schemas"
# What FastAPI declares for its own 422, replaced by the problem it really is.
_FASTAPI_SCHEMAS = ("HTTPValidationError", "ValidationError")
# A parameter whose schema says no more than "text" cannot fail validation.
_CONSTRAINTS = {"pattern", "minLength", "maxLength", "format", "enum", "const"}


def header(description: str, example: str, *, required: bool = True) -> dict[str, Any]:
    return {
        "description": description,
        "required": required,
        "schema": {"type": "string"},
        "example": example,
    }


REQUEST_ID = {
    problems.REQUEST_ID_HEADER: header(
        "This request's id, as in the server log; quote it when reporting a problem",
        "4bf92f3577b34da6a3ce929d0e0e4736",
    )
}
ETAG = {
    "ETag": header(
        "The task's current entity tag: send it in `If-Match` to update only that version, "
        "or in `If-None-Match` to be told it has not changed",
        '"3f2b8c1e-7d4a-4e1b-9a65-0c2d5e8f1a47.3"',
    )
}
LOCATION = {"Location": header("The path of what was created", "/api/v1/tasks/3f2b8c1e")}
LINK = {
    "Link": header(
        'The next page, `<url>; rel="next"`; absent on the last page',
        '</api/v1/tasks?limit=50&cursor=eyJ2IjoiMjAzMC0wMS0wMlQwMTowNDowNSJ9>; rel="next"',
        required=False,
    )
}
RETRY_AFTER = {"Retry-After": header("Seconds to wait before trying again", "30")}
WWW_AUTHENTICATE = {"WWW-Authenticate": header("How to authenticate: a bearer token", "Bearer")}
IDEMPOTENT_REPLAYED = {
    "Idempotent-Replayed": header(
        "`true` when this is the stored answer to an earlier request with the same "
        "`Idempotency-Key`; nothing was created this time",
        "true",
        required=False,
    )
}
_STATUS_HEADERS = {401: WWW_AUTHENTICATE, 429: RETRY_AFTER, 503: RETRY_AFTER}

INVALID_REQUEST = "Invalid request: `errors` lists what is wrong, field by field"
_DESCRIPTIONS = {
    400: "Malformed request: more than 100 query parameters",
    401: "No valid bearer token: `Not authenticated`, `Invalid token` or `Token expired`",
    404: "Not found",
    409: "Conflict",
    412: "The `If-Match` tag is not the current one",
    413: "The request body is larger than this route takes; the connection is then closed",
    415: "The body was not sent with `Content-Type: application/json`",
    422: INVALID_REQUEST,
    429: "Too many attempts; wait `Retry-After` seconds",
    503: "The database is unavailable, or a concurrent write to the same data conflicted with "
    "this one; retry after `Retry-After` seconds",
}
_BODY_400 = (
    "Malformed request: a body that is not JSON (or not UTF-8), or more than 100 query parameters"
)


def operation_id(route: APIRoute) -> str:
    """`<first tag>_<route name>`: the route's `name=`, else its endpoint's name."""
    if not route.tags:
        return route.name
    tag = str(getattr(route.tags[0], "value", route.tags[0]))
    return route.name if route.name.startswith(f"{tag}_") else f"{tag}_{route.name}"


def _operations(app: FastAPI) -> Iterator[tuple[RouteContext, str]]:
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute) and context.include_in_schema:
            for method in sorted(context.methods or ()):
                yield context, method


def check_operation_ids(app: FastAPI) -> None:
    """Two operations with one id would make one client method shadow another: refuse."""
    seen: dict[str, str] = {}
    for context, method in _operations(app):
        name = context.operation_id or context.unique_id
        where = f"{method} {context.path_format}"
        if name in seen:
            raise ConfigError(
                f"operation id {name!r} of {where} is also {seen[name]}'s: give one of the "
                "routes another name= (operation ids are <tag>_<route name>)"
            )
        seen[name] = where


def install(app: FastAPI) -> None:
    check_operation_ids(app)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = FastAPI.openapi(app)
            app.openapi_schema = None  # cached only once complete
            app.openapi_schema = _complete(app, document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def description(tags: Collection[str]) -> str:
    """What every client must know, shown atop the docs page: specs/api/conventions.md, at the
    top of a checkout or `app.specs` in a wheel. A section that names a tag (``tag `x` ``) is
    kept only when an operation carries that tag, so a disabled plugin is not described."""
    checkout = Path(__file__).resolve().parents[3] / CONVENTIONS
    source = checkout if checkout.is_file() else files("app.specs").joinpath("api/conventions.md")
    head, *sections = re.split(r"(?m)^(?=## )", source.read_text(encoding="utf-8"))
    return head + "".join(
        section
        for section in sections
        if (tag := re.search(r"tag\s+`([\w-]+)`", section)) is None or tag.group(1) in tags
    )


def _complete(app: FastAPI, document: dict[str, Any]) -> dict[str, Any]:
    tags = {
        tag
        for path in document["paths"].values()
        for operation in path.values()
        if isinstance(operation, dict)
        for tag in operation.get("tags", [])
    }
    document["info"]["description"] = description(tags)
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    token_url = ""
    for context, method in _operations(app):
        endpoint = getattr(context.original_route, "endpoint", None)
        if is_token_endpoint(endpoint):
            token_url = str(context.path_format)
        operation = document["paths"][context.path_format][method.lower()]
        schemas.update(operation.pop(SCHEMAS_KEY, {}))
        if _complete_operation(operation, _dependencies(context)):
            scope = required_scope(endpoint, method)
            operation["security"] = [{SCHEME: [scope] if scope is not None else []}]
    if any("security" in o for path in document["paths"].values() for o in path.values()):
        components["securitySchemes"] = {SCHEME: _scheme(token_url, known_scopes(app))}
    for name in _FASTAPI_SCHEMAS:
        schemas.pop(name, None)
    _, problem_schemas = models_json_schema(
        [(problems.Problem, "serialization"), (problems.ValidationProblem, "serialization")],
        ref_template=REF + "{model}",
    )
    schemas.update(problem_schemas["$defs"])
    _name_bodies(document)
    for schema in schemas.values():
        _examples_of_fields(schema)
    _examples_of_bodies(document)
    return document


def _scheme(token_url: str, scopes: list[str]) -> dict[str, Any]:
    """The bearer scheme; it lists every scope, what a personal access token may be given."""
    return {
        "type": "oauth2",
        "flows": {
            "password": {
                "scopes": {scope: _scope_description(scope) for scope in scopes},
                "tokenUrl": token_url,
            }
        },
        # Which token carries which scopes is the authentication plugin's to say (the kernel
        # names no plugin's routes): the docs' introduction says it.
        "description": "A token carries every scope or only the ones it was given. A route's "
        "scope is in its security requirement; without it, a 403 names it.",
    }


def _scope_description(scope: str) -> str:
    plugin, _, kind = scope.partition(":")
    if kind == "read":
        return f"Read what the `{plugin}` routes serve"
    if kind == "write":
        return f"Change what the `{plugin}` routes serve"
    return f"The `{plugin}` plugin's `{kind}` scope"


def _dependencies(context: RouteContext) -> set[object]:
    calls, pending = set(), [context.dependant]
    while pending:
        dependant = pending.pop()
        calls.add(dependant.call)
        pending.extend(dependant.dependencies)
    return calls


def _complete_operation(operation: dict[str, Any], calls: set[object]) -> bool:
    """Complete `operation`'s responses; whether it authenticates."""
    responses: dict[str, Any] = operation["responses"]
    if _is_fastapis_422(responses.get("422")):
        del responses["422"]
    parameters = operation.get("parameters", [])
    for parameter in parameters:
        examples = parameter.get("schema", {}).get("examples")
        if examples and "example" not in parameter:
            parameter["example"] = examples[0]
    body = "requestBody" in operation
    authenticates = any(call in calls for call in AUTHENTICATING)
    statuses = {400: _BODY_400 if body else _DESCRIPTIONS[400]}
    if body:
        statuses[413] = _DESCRIPTIONS[413]
    if problems.JSON in operation.get("requestBody", {}).get("content", {}):
        statuses[415] = _DESCRIPTIONS[415]
    if body or any(_can_fail(parameter) for parameter in parameters):
        statuses[422] = _DESCRIPTIONS[422]
    if authenticates:
        statuses[401] = _DESCRIPTIONS[401]
    if any(call in calls for call in USING_DATABASE):
        statuses[503] = _DESCRIPTIONS[503]
    for status, text in statuses.items():
        responses.setdefault(str(status), {"description": text})
    for code, response in responses.items():
        status = int(code)
        if status >= 400:
            if not response.get("description") or response["description"] == "Successful Response":
                response["description"] = _DESCRIPTIONS.get(status, "Error")
            schema = "ValidationProblem" if status == 422 else "Problem"
            response["content"] = {problems.MEDIA_TYPE: {"schema": {"$ref": REF + schema}}}
        response["headers"] = (
            REQUEST_ID | _STATUS_HEADERS.get(status, {}) | response.get("headers", {})
        )
    operation["responses"] = dict(sorted(responses.items()))
    return authenticates


def _is_fastapis_422(response: dict[str, Any] | None) -> bool:
    schema = (response or {}).get("content", {}).get("application/json", {}).get("schema", {})
    return bool(schema.get("$ref") == REF + "HTTPValidationError")


def _can_fail(parameter: dict[str, Any]) -> bool:
    if parameter.get("required") and parameter["in"] != "path":
        return True  # missing
    schema = parameter.get("schema", {})
    if schema.keys() & _CONSTRAINTS:
        return True  # stated beside `anyOf` (a header documented with `json_schema_extra`)
    options = [s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]
    return not all(s.get("type") == "string" and not s.keys() & _CONSTRAINTS for s in options)


def _name_bodies(document: dict[str, Any]) -> None:
    """`Body_<operation id>`, FastAPI's name for a body of several fields, named as a generated
    client's class (`AuthTokenForm`)."""
    schemas = document["components"]["schemas"]
    renamed: dict[str, str] = {}
    for path in document["paths"].values():
        for operation in path.values():
            for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
                ref = content.get("schema", {}).get("$ref", "")
                old = ref.removeprefix(REF)
                if not old.startswith("Body_"):
                    continue
                kind = "Body" if "json" in media_type else "Form"
                new = re.sub(r"(?:^|_)(.)", _upper, operation["operationId"]) + kind
                renamed[old] = new
                content["schema"]["$ref"] = REF + new
    for old, new in renamed.items():
        schema = schemas[new] = schemas.pop(old) | {"title": new}
        fields = schema.get("properties", {}).items()
        example = {name: field["examples"][0] for name, field in fields if field.get("examples")}
        schema.setdefault("examples", [example])


def _examples_of_bodies(document: dict[str, Any]) -> None:
    """A body shows its model's example, so Swagger UI never makes one up from a pattern."""
    schemas = document["components"]["schemas"]
    for path in document["paths"].values():
        for operation in path.values():
            for content in operation.get("requestBody", {}).get("content", {}).values():
                schema = content.get("schema", {})
                # An optional body is `anyOf: [<model>, null]`.
                refs = [option.get("$ref", "") for option in schema.get("anyOf", [schema])]
                name = next((ref for ref in refs if ref), "").removeprefix(REF)
                examples = schemas.get(name, {}).get("examples")
                if examples and "example" not in content:
                    content["example"] = examples[0]


def _upper(match: re.Match[str]) -> str:
    return match.group(1).upper()


def _examples_of_fields(schema: dict[str, Any]) -> None:
    """Each field without examples takes one from the first model example that has it."""
    examples = [example for example in schema.get("examples", []) if isinstance(example, dict)]
    for name, field in schema.get("properties", {}).items():
        found = next((example[name] for example in examples if name in example), None)
        if found is not None and "examples" not in field:
            field["examples"] = [found]
