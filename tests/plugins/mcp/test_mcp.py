"""Task: T-444, T-447, T-448
Spec: specs/features/mcp.md §Testing

The MCP server driven by the SDK's own client (`streamable_http_client` + `ClientSession`) over
real HTTP: the app served by uvicorn on loopback, every tool called with a read-write personal
token, a session JWT and a read-only token; isolation, bad arguments, 401, 60 calls at once.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import httpx2
import pytest
import uvicorn
from fastapi.routing import iter_route_contexts
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from app.core.http.marks import required_scope
from app.plugins.mcp.tools import TOOLS
from app.testing import AppClient, owned_digests
from harness.server import free_port
from tests.plugins.quickadd.phrases import NOWS, PHRASES
from tests.plugins.tasks.conftest import QUIET, User, sign_up

ENABLED = QUIET  # the built-ins, mcp among them, without after-commit consumers
READ_TOOLS = {"list_tasks", "get_task", "list_lists"}


@pytest.fixture
async def client(make_client: Any) -> AppClient:
    app_client: AppClient = await make_client(enabled=ENABLED)
    return app_client


@pytest.fixture
async def base(client: AppClient) -> AsyncIterator[str]:
    async with served(client) as url:
        yield url


@asynccontextmanager
async def served(client: AppClient) -> AsyncIterator[str]:
    """The app `client` serves (started already), served again by uvicorn on loopback."""
    server = uvicorn.Server(
        uvicorn.Config(
            client.app, host="127.0.0.1", port=free_port(), lifespan="off", log_level="warning"
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "uvicorn stopped during start-up"
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def session(base: str, token: str, modern: bool = False) -> AsyncIterator[ClientSession]:
    """An SDK client session: the `initialize` handshake (protocol 2025-11-25, what clients
    speak today), or with `modern`, `server/discover` and per-request envelopes (2026-07-28)."""
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30)
    async with (
        http,
        streamable_http_client(f"{base}/api/v1/mcp", http_client=http) as (read, write),
        ClientSession(read, write) as mcp,
    ):
        await (mcp.discover() if modern else mcp.initialize())
        yield mcp


async def call(mcp: ClientSession, name: str, **arguments: Any) -> Any:
    result = await mcp.call_tool(name, arguments)
    assert not result.is_error, f"{name}: {result.content}"
    return result.structured_content


async def refused(mcp: ClientSession, name: str, **arguments: Any) -> str:
    result = await mcp.call_tool(name, arguments)
    assert result.is_error, f"{name} was not refused: {result.structured_content}"
    return result.content[0].text  # type: ignore[union-attr]


async def every_tool(mcp: ClientSession, user: User) -> None:
    """Call each tool once, checking each answer against the REST API's."""
    lists = await call(mcp, "list_lists")
    list_id = lists["lists"][0]["id"]
    created = await call(mcp, "create_task", title="from mcp", priority="high", tags=["ai"])
    task_id = created["id"]
    assert (await user.get(f"/api/v1/tasks/{task_id}")).json() == created
    found = await call(mcp, "list_tasks", q="from mcp", priority=["high"], tag=["ai"])
    assert [task["id"] for task in found["tasks"]] == [task_id]
    open_ones = await call(mcp, "list_tasks", completed=False, top_level=True, limit=1)
    assert [task["id"] for task in open_ones["tasks"]] == [task_id]
    assert (await call(mcp, "get_task", task_id=task_id)) == created
    updated = await call(mcp, "update_task", task_id=task_id, title="renamed", due_at=None)
    assert updated["title"] == "renamed"
    assert (await call(mcp, "complete_task", task_id=task_id))["completed"] is True
    assert (await call(mcp, "reopen_task", task_id=task_id))["completed"] is False
    other = (await user.post("/api/v1/lists", json={"name": "elsewhere"})).json()
    moved = await call(mcp, "move_task", task_id=task_id, list_id=other["id"])
    assert moved["list_id"] == other["id"] != list_id
    assert (await call(mcp, "delete_task", task_id=task_id)) == {"deleted": task_id}
    assert (await user.get(f"/api/v1/tasks/{task_id}")).status_code == 404


async def test_every_tool_with_a_read_write_personal_token_and_a_session_token(
    client: AppClient, base: str
) -> None:
    user = await sign_up(client)
    personal = await user.scoped("tasks:read", "tasks:write")
    for token, modern in ((personal.token, False), (user.token, False), (personal.token, True)):
        async with session(base, token, modern) as mcp:
            listed = await mcp.list_tools()
            assert {tool.name for tool in listed.tools} == {tool.name for tool in TOOLS}
            for tool in listed.tools:
                assert tool.description and tool.input_schema["type"] == "object"
            await every_tool(mcp, user)


async def test_a_read_only_token_sees_and_calls_only_the_read_tools(
    client: AppClient, base: str
) -> None:
    user = await sign_up(client)
    task = await user.create(title="mine")
    reader = await user.scoped("tasks:read")
    async with session(base, reader.token) as mcp:
        assert {tool.name for tool in (await mcp.list_tools()).tools} == READ_TOOLS
        assert (await call(mcp, "get_task", task_id=task["id"]))["title"] == "mine"
        before = await owned_digests(client.app)
        for name, arguments in (
            ("create_task", {"title": "no"}),
            ("update_task", {"task_id": task["id"], "title": "no"}),
            ("complete_task", {"task_id": task["id"]}),
            ("reopen_task", {"task_id": task["id"]}),
            ("move_task", {"task_id": task["id"]}),
            ("delete_task", {"task_id": task["id"]}),
        ):
            assert "tasks:write" in await refused(mcp, name, **arguments)
        after = await owned_digests(client.app)
        assert before == after


async def test_another_users_ids_are_not_found_and_change_nothing(
    client: AppClient, base: str
) -> None:
    alice, bob = await sign_up(client), await sign_up(client)
    task = await alice.create(title="alice's")
    alice_list = task["list_id"]
    async with session(base, bob.token) as mcp:
        # Bob's own rows first (his default list comes with his first read).
        lists = (await call(mcp, "list_lists"))["lists"]
        assert alice_list not in {row["id"] for row in lists}
        own = await call(mcp, "create_task", title="bob's")
        before = await owned_digests(client.app)
        for name, arguments in (
            ("get_task", {"task_id": task["id"]}),
            ("update_task", {"task_id": task["id"], "title": "bob was here"}),
            ("complete_task", {"task_id": task["id"]}),
            ("reopen_task", {"task_id": task["id"]}),
            ("move_task", {"task_id": task["id"]}),
            ("delete_task", {"task_id": task["id"]}),
        ):
            assert "not found" in (await refused(mcp, name, **arguments)).lower(), name
        assert (await call(mcp, "list_tasks", list_id=alice_list))["tasks"] == []
        # Creating in Alice's list, or moving into it, is refused (and makes nothing).
        await refused(mcp, "create_task", title="sneaky", list_id=alice_list)
        await refused(mcp, "move_task", task_id=own["id"], list_id=alice_list)
        with pytest.raises(MCPError):
            await mcp.read_resource(f"todo://lists/{alice_list}")
        assert await owned_digests(client.app) == before


async def test_resources_are_the_callers_lists(client: AppClient, base: str) -> None:
    user = await sign_up(client)
    task = await user.create(title="open one")
    async with session(base, user.token) as mcp:
        resources = (await mcp.list_resources()).resources
        uris = {str(resource.uri) for resource in resources}
        assert "todo://lists" in uris and f"todo://lists/{task['list_id']}" in uris
        read = await mcp.read_resource(f"todo://lists/{task['list_id']}")
        assert "open one" in read.contents[0].text  # type: ignore[union-attr]


async def test_bad_arguments_are_tool_errors_and_change_nothing(
    client: AppClient, base: str
) -> None:
    user = await sign_up(client)
    task = await user.create(title="kept")
    async with session(base, user.token) as mcp:
        before = await owned_digests(client.app)
        for name, arguments in (
            ("create_task", {}),
            ("create_task", {"title": ""}),
            ("create_task", {"title": "x" * 201}),
            ("create_task", {"title": "a", "text": "b"}),
            ("create_task", {"title": "a\u0000b"}),
            ("update_task", {"task_id": task["id"], "priority": "urgent"}),
            ("update_task", {"task_id": task["id"], "unknown": 1}),
            ("get_task", {"task_id": "x" * 37}),
            ("list_tasks", {"limit": 0}),
            ("list_tasks", {"sort": "position"}),
            ("move_task", {"task_id": task["id"], "after": task["id"]}),
        ):
            await refused(mcp, name, **arguments)
        assert await owned_digests(client.app) == before
        with pytest.raises(MCPError):
            await mcp.call_tool("no_such_tool", {})


async def test_the_quick_add_phrase_table_through_the_create_tool(
    client: AppClient, base: str
) -> None:
    """quickadd.md's table of phrases, each said to `create_task` as `text`: the same task as
    `POST /tasks/quick` makes, at the same fixed now."""
    user = await sign_up(client)
    work = (await user.post("/api/v1/lists", json={"name": "Work"})).json()
    clock = client.app.state.context.state["quickadd"]
    async with session(base, user.token) as mcp:
        for phrase in PHRASES:
            clock.fixed = NOWS[phrase.now]
            made = await call(mcp, "create_task", text=phrase.text, timezone=phrase.timezone)
            task, parse = made["task"], made["parse"]
            assert task == (await user.get(f"/api/v1/tasks/{task['id']}")).json()
            due = task["due_at"].replace("+00:00", "Z") if task["due_at"] else None
            assert (task["title"], due, task["tags"]) == (
                phrase.title,
                phrase.due_at,
                phrase.tags,
            ), phrase.text
            assert task["priority"] == (phrase.priority or "none")
            assert parse["rrule"] == phrase.rrule, phrase.text
            if phrase.list is not None:
                assert task["list_id"] == work["id"]


async def test_quick_add_text_is_refused_without_the_quickadd_plugin(
    make_client: Any,
) -> None:
    without = await make_client(enabled=tuple(name for name in ENABLED if name != "quickadd"))
    async with served(without) as base:
        user = await sign_up(without)
        async with session(base, user.token) as mcp:
            assert "quickadd" in await refused(mcp, "create_task", text="milk tomorrow")


async def test_unauthenticated_is_a_401_naming_the_metadata(client: AppClient, base: str) -> None:
    async with httpx.AsyncClient(base_url=base) as http:
        for headers in ({}, {"Authorization": "Bearer not-a-token"}):
            answer = await http.post("/api/v1/mcp", json={}, headers=headers)
            assert answer.status_code == 401
            assert answer.headers["www-authenticate"] == (
                f'Bearer resource_metadata="{base}/.well-known/oauth-protected-resource/api/v1/mcp"'
            )
        for path in (
            "/.well-known/oauth-protected-resource/api/v1/mcp",
            "/.well-known/oauth-protected-resource",
        ):
            metadata = (await http.get(path)).json()
            assert metadata["resource"] == f"{base}/api/v1/mcp"
            assert metadata["authorization_servers"] == [base]
            assert metadata["scopes_supported"] == ["tasks:read", "tasks:write"]
            assert metadata["bearer_methods_supported"] == ["header"]


async def test_60_concurrent_tool_calls(client: AppClient, base: str) -> None:
    user = await sign_up(client)
    async with session(base, user.token) as mcp:
        created = await asyncio.gather(
            *(call(mcp, "create_task", title=f"task {n}") for n in range(30)),
            *(call(mcp, "list_tasks") for _ in range(30)),
        )
    titles = {task["title"] for task in created[:30]}
    assert titles == {f"task {n}" for n in range(30)}
    listed = (await user.get("/api/v1/tasks", params={"limit": 100})).json()
    assert len(listed) == 30


def test_each_tool_declares_its_routes_scope(app: Any) -> None:
    endpoints = {
        (method, context.path): getattr(context.original_route, "endpoint", None)
        for context in iter_route_contexts(app.routes)
        for method in context.methods or ()
    }
    for tool in TOOLS:
        method, path = tool.route(tool.model.model_construct(task_id="{task_id}", text=None))
        assert required_scope(endpoints[(method, "/api/v1" + path)], method) == tool.scope


def _rpc(method: str, modern: bool = False, **params: Any) -> dict[str, Any]:
    if modern:
        params["_meta"] = {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
        }
    return {"jsonrpc": "2.0", "id": 7, "method": method, "params": params}


async def test_what_is_not_one_plain_request_keeps_the_sdk_transports_answer(
    client: AppClient, base: str
) -> None:
    """The requests the exchange hands to the SDK's transport (exchange.py), and a protocol
    error it answers itself: each as the SDK answered it before the exchange."""
    user = await sign_up(client)
    json_ = {"Authorization": f"Bearer {user.token}", "Accept": "application/json"}
    legacy = json_ | {"MCP-Protocol-Version": "2025-11-25"}
    modern = json_ | {"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call"}
    notification = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        for headers, body, status, code in (
            (legacy, notification, 202, None),
            (legacy, [_rpc("tools/list")], 400, -32602),  # a batch
            (legacy, b"{nope", 400, -32700),
            (legacy | {"Accept": "text/event-stream"}, _rpc("tools/list"), 406, -32600),
            (legacy, _rpc("nope/nope"), 200, -32601),
            (json_ | {"MCP-Protocol-Version": "1999-01-01"}, _rpc("tools/list"), 400, -32602),
            (
                modern | {"Mcp-Name": "list_tasks"},
                _rpc("tools/call", True, name="get_task"),
                400,
                -32020,
            ),
            (modern | {"Mcp-Name": "get_task"}, _rpc("tools/call", name="get_task"), 400, -32602),
            (modern | {"Mcp-Name": "nope"}, _rpc("tools/call", True, name="nope"), 400, -32602),
        ):
            content = body if isinstance(body, bytes) else None
            answer = await http.post(
                "/api/v1/mcp",
                headers=headers | {"Content-Type": "application/json"},
                content=content,
                json=None if content is not None else body,
            )
            assert answer.status_code == status, (body, answer.text)
            if code is not None:
                assert answer.json()["error"]["code"] == code, (body, answer.text)


async def test_a_handler_failure_is_a_generic_internal_error(
    client: AppClient, base: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def fails(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a secret detail")

    monkeypatch.setattr("app.plugins.mcp.dispatch.call", fails)
    user = await sign_up(client)
    auth = {"Authorization": f"Bearer {user.token}", "Accept": "application/json"}
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        for headers, modern in (
            (auth | {"MCP-Protocol-Version": "2025-11-25"}, False),
            (auth | {"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call"}, True),
        ):
            answer = await http.post(
                "/api/v1/mcp",
                headers=headers | {"Mcp-Name": "list_tasks"},
                json=_rpc("tools/call", modern, name="list_tasks", arguments={}),
            )
            assert answer.status_code == 200
            assert answer.json()["error"] == {"code": -32603, "message": "Internal server error"}
            assert "secret" not in answer.text
