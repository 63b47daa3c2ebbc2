"""Task: T-441, T-442
Spec: specs/features/mcp.md §Transport, §Tools, §Resources, §Scopes

The MCP server (the official SDK's low-level `Server`): tools/list shows the tools the caller's
token may call; tools/call validates the arguments with the tool's model and calls its route in
this process; a problem the route answers becomes a tool error (`isError`) with its title and
detail. Resources are the caller's lists.
"""

from typing import Any
from urllib.parse import parse_qs, urlsplit

import mcp_types as types
import orjson
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from mcp.server import Server, ServerRequestContext
from mcp.shared.exceptions import MCPError
from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from app.core import Principal
from app.plugins.mcp import dispatch
from app.plugins.mcp.tools import BY_NAME, QUICK, TOOLS, Tool

PRINCIPAL = "todo_api.mcp.principal"  # set on the request's scope by the endpoint
LISTS = "todo://lists"
INSTRUCTIONS = (
    "The user's todo tasks and lists. Ids come from list_tasks, create_task and list_lists; "
    "times are ISO 8601 with a timezone, answered in UTC."
)


def _request(ctx: ServerRequestContext[Any]) -> Request:
    request = ctx.request
    assert isinstance(request, Request), "the MCP server runs over HTTP only"
    return request


def _caller(ctx: ServerRequestContext[Any]) -> Principal:
    principal: Principal = _request(ctx).scope[PRINCIPAL]
    return principal


def _refused(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=message)], is_error=True)


def _problem(answer: dispatch.Answer) -> str:
    body = answer.body if isinstance(answer.body, dict) else {}
    title = body.get("title") or f"HTTP {answer.status}"
    detail = body.get("detail")
    errors = body.get("errors")
    message = f"{title}: {detail}" if detail else str(title)
    if errors:
        message += " " + orjson.dumps(errors).decode()
    return message


def _next_cursor(answer: dispatch.Answer) -> str | None:
    for link in answer.links:
        target, _, rel = link.partition(";")
        if 'rel="next"' in rel.replace(" ", ""):
            cursor = parse_qs(urlsplit(target.strip("<> ")).query).get("cursor")
            return cursor[0] if cursor else None
    return None


_PAGES = {"list_tasks": "tasks", "list_lists": "lists"}  # a page's key in the tool's result


def _result(tool: Tool, arguments: BaseModel, answer: dispatch.Answer) -> dict[str, Any]:
    """The tool's result as it goes on the wire: `structuredContent`, and the same JSON as text,
    made around the route's own bytes rather than encoded again."""
    if key := _PAGES.get(tool.name):
        cursor = _next_cursor(answer)
        result: Any = {key: answer.body, "next_cursor": cursor}
        text = b'{"%s":%s,"next_cursor":%s}' % (key.encode(), answer.raw, orjson.dumps(cursor))
    elif answer.body is None:  # 204: a deletion
        result = {"deleted": getattr(arguments, "task_id", None)}
        text = orjson.dumps(result)
    elif isinstance(answer.body, dict):
        result, text = answer.body, answer.raw
    else:
        result = {"result": answer.body}
        text = orjson.dumps(result)
    # The dump of a `CallToolResult`: the SDK takes a handler's dict as the result's wire form
    # (validated against the protocol version's schema all the same), sparing it a model and a
    # walk of the page to dump it.
    return {
        "content": [{"type": "text", "text": text.decode()}],
        "structuredContent": result,
        "isError": False,
        "resultType": "complete",
    }


def _has_route(app: FastAPI, method: str, path: str) -> bool:
    # Through included routers too: FastAPI keeps a plugin's router whole inside the app's.
    return any(
        context.path == dispatch.API + path and method in (context.methods or ())
        for context in iter_route_contexts(app.routes)
    )


def build_server(app: FastAPI) -> Server[Any]:
    quick_add = _has_route(app, "POST", QUICK)

    # Described once: generating the JSON schemas took 6 ms a tools/list.
    described = [
        (
            tool.scope,
            types.Tool(
                name=tool.name,
                description=tool.description,
                input_schema=tool.model.model_json_schema(),
                annotations=types.ToolAnnotations(
                    read_only_hint=tool.read_only, destructive_hint=tool.name == "delete_task"
                ),
            ),
        )
        for tool in TOOLS
    ]

    async def list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        caller = _caller(ctx)
        return types.ListToolsResult(
            tools=[described for scope, described in described if caller.allows(scope)]
        )

    async def call_tool(
        ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult | dict[str, Any]:
        tool = BY_NAME.get(params.name)
        if tool is None:
            raise MCPError(types.INVALID_PARAMS, f"No tool named {params.name!r}")
        if not _caller(ctx).allows(tool.scope):
            return _refused(f"This token lacks the scope {tool.scope!r} that {tool.name} needs")
        try:
            arguments = tool.model.model_validate(params.arguments or {})
        except ValidationError as exc:
            errors = [
                {"field": ".".join(map(str, error["loc"])), "message": error["msg"]}
                for error in exc.errors(include_url=False, include_input=False)
            ]
            return _refused("Invalid arguments: " + orjson.dumps(errors).decode())
        method, path = tool.route(arguments)
        if path == QUICK and not quick_add:
            return _refused(
                "Quick-add `text` needs the server's quickadd plugin, which is not enabled: "
                "give `title` and the other fields instead"
            )
        payload = tool.send(arguments)
        query, body = (payload, None) if method == "GET" else (None, payload)
        answer = await dispatch.call(app, _request(ctx).scope, method, path, query, body)
        if not answer.ok:
            return _refused(_problem(answer))
        return _result(tool, arguments, answer)

    async def list_resources(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        lists = await _lists(ctx)
        return types.ListResourcesResult(
            resources=[
                types.Resource(
                    uri=LISTS,
                    name="lists",
                    description="All your task lists",
                    mime_type="application/json",
                ),
                *(
                    types.Resource(
                        uri=f"{LISTS}/{row['id']}",
                        name=row["name"],
                        description=f"The list {row['name']!r} and its open tasks",
                        mime_type="application/json",
                    )
                    for row in lists
                ),
            ]
        )

    async def list_templates(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(
            resource_templates=[
                types.ResourceTemplate(
                    uri_template=LISTS + "/{list_id}",
                    name="list",
                    description="One of your lists and its open tasks",
                    mime_type="application/json",
                )
            ]
        )

    async def read_resource(
        ctx: ServerRequestContext[Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        uri = str(params.uri)
        if uri == LISTS:
            content: Any = await _lists(ctx)
        elif uri.startswith(LISTS + "/") and "/" not in (list_id := uri[len(LISTS) + 1 :]):
            content = await _list(ctx, list_id)
        else:
            raise MCPError(types.INVALID_PARAMS, f"No resource {uri}")
        return types.ReadResourceResult(
            contents=[
                types.TextResourceContents(
                    uri=uri, mime_type="application/json", text=orjson.dumps(content).decode()
                )
            ]
        )

    async def _get(ctx: ServerRequestContext[Any], path: str, **query: Any) -> Any:
        if not _caller(ctx).allows("tasks:read"):
            raise MCPError(types.INVALID_PARAMS, "This token lacks the scope 'tasks:read'")
        answer = await dispatch.call(app, _request(ctx).scope, "GET", path, query)
        if not answer.ok:
            raise MCPError(types.INVALID_PARAMS, _problem(answer))
        return answer.body

    async def _lists(ctx: ServerRequestContext[Any]) -> list[dict[str, Any]]:
        # The first page, at the server's largest: a resource is read whole or not at all.
        rows: list[dict[str, Any]] = await _get(ctx, "/lists", limit=500)
        return rows

    async def _list(ctx: ServerRequestContext[Any], list_id: str) -> dict[str, Any]:
        found = await _get(ctx, f"/lists/{list_id}")
        tasks = await _get(ctx, "/tasks", list_id=list_id, completed="false", limit=500)
        return {"list": found, "open_tasks": tasks}

    schemas = {described.name: described.input_schema for _, described in described}

    return Server(
        "todo-api",
        instructions=INSTRUCTIONS,
        # The 2026-07-28 transport checks `Mcp-Param-*` headers against the called tool's schema:
        # from here, rather than by calling tools/list on every tools/call.
        get_tool_input_schema=schemas.get,
        on_list_tools=list_tools,
        # The runner takes a handler's dict as the result's wire form (its `HandlerResult`),
        # though this argument's annotation names the models only.
        on_call_tool=call_tool,  # type: ignore[arg-type]
        on_list_resources=list_resources,
        on_list_resource_templates=list_templates,
        on_read_resource=read_resource,
    )
