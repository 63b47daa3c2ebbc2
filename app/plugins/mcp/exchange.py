"""Task: T-447, T-448
Spec: specs/features/mcp.md §Transport, §Speed

A plain MCP request (one JSON-RPC request in a POST, answered in JSON) served in the HTTP
request's own task by the SDK's single-exchange driver (`serve_one`), and its answer written
once, with orjson. The SDK's stateless transport gives each handshake-era request a transport,
a task, four memory streams and a JSON-RPC dispatcher, and its 2026-07-28 entry dumps the
answer through pydantic and the standard library's json: together as much CPU as a whole REST
read. The handlers, the validation of parameters and results for the protocol version, and the
middleware (OpenTelemetry) stay the SDK's, and so does every request that is not plain:
`initialize`, a notification, a batch, a GET or DELETE, a client that does not take JSON, a body
that is no request, a 2026-07-28 envelope or header the SDK's ladder refuses. Those go to the
SDK's transport untouched (the body read here given back), which answers them as before.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio
import orjson
from mcp.server import Server
from mcp.server.connection import Connection
from mcp.server.runner import modern_error_data, serve_one
from mcp.server.streamable_http import check_accept_headers
from mcp.shared.exceptions import NoBackChannelError
from mcp.shared.inbound import (
    ERROR_CODE_HTTP_STATUS,
    MCP_PARAM_HEADER_PREFIX,
    MCP_PROTOCOL_VERSION_HEADER,
    InboundModernRoute,
    classify_inbound_request,
    find_duplicated_routing_header,
    validate_mcp_param_headers,
)
from mcp.shared.message import ServerMessageMetadata
from mcp.shared.transport_context import TransportContext
from mcp_types import DEFAULT_NEGOTIATED_VERSION, JSONRPCError, JSONRPCRequest, RequestId
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_VERSION = MCP_PROTOCOL_VERSION_HEADER.encode("ascii")
_PARAM = MCP_PARAM_HEADER_PREFIX.lower()
# Requests for the SDK's transport though plain: `initialize` negotiates (once a client), and a
# listen answers with a stream.
_ELSEWHERE = frozenset({"initialize", "subscriptions/listen"})
# Stateless: the client's reply to a server request would have nowhere to land (as in the SDK).
_HANDSHAKE = TransportContext(kind="streamable-http", can_send_request=False)


@dataclass
class _Exchange:
    """The SDK's `DispatchContext` for one request answered in JSON: no back channel, and
    notifications (progress, logs) go nowhere, the SDK's JSON answers having no room for them."""

    request_id: RequestId
    message_metadata: ServerMessageMetadata
    transport: TransportContext
    can_send_request: bool = False
    cancel_requested: anyio.Event = field(default_factory=anyio.Event)

    async def send_raw_request(self, method: str, params: Any, opts: Any = None) -> dict[str, Any]:
        raise NoBackChannelError(method)

    async def notify(self, method: str, params: Any, opts: Any = None) -> None:
        return None

    async def progress(
        self, progress: float, total: float | None = None, message: str | None = None
    ) -> None:
        return None


@dataclass(frozen=True)
class _Plain:
    """A request this module answers: its JSON-RPC request, its connection and whether the
    2026-07-28 entry's rules (answer status from the error code) apply."""

    message: JSONRPCRequest
    connection: Connection
    modern: bool


def _request(body: bytes) -> tuple[Mapping[str, Any], JSONRPCRequest] | None:
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(decoded, dict) or decoded.get("method") in _ELSEWHERE:
        return None
    # An id orjson can write back, a string or a 64-bit integer; any other for the SDK's transport.
    ident = decoded.get("id")
    if not isinstance(ident, str) and not (isinstance(ident, int) and -(2**63) <= ident < 2**64):
        return None
    try:
        return decoded, JSONRPCRequest.model_validate(decoded, by_name=False)
    except ValidationError:
        return None


def _modern(
    server: Server[Any], request: Request, decoded: Mapping[str, Any], message: JSONRPCRequest
) -> Connection | None:
    """The connection of a 2026-07-28 request that passes every rung the SDK's entry checks
    (routing headers, envelope, `Mcp-Param-*` headers), or None for the SDK to refuse it."""
    if find_duplicated_routing_header(request.headers.items()) is not None:
        return None
    verdict = classify_inbound_request(decoded, headers=dict(request.headers))
    if not isinstance(verdict, InboundModernRoute):
        return None
    params = message.params or {}
    if message.method == "tools/call" and isinstance(name := params.get("name"), str):
        arguments = params.get("arguments") or {}
        headed = any(header.startswith(_PARAM) for header in request.headers)
        if not isinstance(arguments, Mapping):
            return None
        lookup = server.get_tool_input_schema
        schema = lookup(name) if lookup is not None and (arguments or headed) else None
        if schema is not None and validate_mcp_param_headers(schema, arguments, request.headers):
            return None
    return Connection.from_envelope(
        verdict.protocol_version, verdict.client_info, verdict.client_capabilities
    )


def _era(scope: Scope) -> str | None:
    """The `MCP-Protocol-Version` of a POST that takes JSON (the spec's default when there is
    none), or None when the SDK's transport answers it."""
    if scope["method"] != "POST":
        return None
    request = Request(scope)
    # Exactly JSON: what both of the SDK's entries take (they differ on the rest).
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return None
    if not check_accept_headers(request)[0]:
        return None
    versions = [value for name, value in scope["headers"] if name == _VERSION]
    if len(versions) > 1:
        return None
    return versions[0].decode("latin-1") if versions else DEFAULT_NEGOTIATED_VERSION


async def serve(
    server: Server[Any],
    state: Any,
    fallback: ASGIApp,
    scope: Scope,
    receive: Receive,
    send: Send,
) -> None:
    """Answer a plain request here; hand any other to `fallback` (the SDK's transport)."""
    version = _era(scope)
    if version is None:
        await fallback(scope, receive, send)
        return
    request = Request(scope, receive)
    body = await request.body()
    plain = _plain(server, request, version, body)
    if plain is None:
        given = False

        async def replay() -> Message:
            nonlocal given
            if given:
                return await receive()
            given = True
            return {"type": "http.request", "body": body, "more_body": False}

        await fallback(scope, replay, send)
        return
    message = plain.message
    transport = (
        TransportContext(kind="streamable-http", can_send_request=False, headers=request.headers)
        if plain.modern
        else _HANDSHAKE
    )
    exchange = _Exchange(message.id, ServerMessageMetadata(request_context=request), transport)
    status = 200
    try:
        result = await serve_one(
            server,
            exchange,
            message.method,
            message.params,
            connection=plain.connection,
            lifespan_state=state,
        )
        answer = orjson.dumps({"jsonrpc": "2.0", "id": message.id, "result": result})
    except Exception as exc:  # the failure as JSON-RPC says it, never a handler's own text
        error = JSONRPCError(jsonrpc="2.0", id=message.id, error=modern_error_data(exc))
        if plain.modern:
            status = ERROR_CODE_HTTP_STATUS.get(error.error.code, 200)
        answer = error.model_dump_json(by_alias=True, exclude_none=True).encode()
    await Response(answer, status_code=status, media_type="application/json")(scope, receive, send)


def _plain(server: Server[Any], request: Request, version: str, body: bytes) -> _Plain | None:
    parsed = _request(body)
    if parsed is None:
        return None
    decoded, message = parsed
    if version in HANDSHAKE_PROTOCOL_VERSIONS:
        return _Plain(message, Connection.from_envelope(version, None, None), False)
    connection = _modern(server, request, decoded, message)
    return None if connection is None else _Plain(message, connection, True)
