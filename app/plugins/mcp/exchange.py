"""Task: T-447
Spec: specs/features/mcp.md §Speed, §Transport

A handshake-era request (one JSON-RPC request in a POST, answered in JSON) served in the HTTP
request's own task by the SDK's single-exchange driver (`serve_one`), as the SDK serves a
2026-07-28 request. The SDK's stateless transport gives each such request a transport, a task,
four memory streams and a JSON-RPC dispatcher: as much CPU as a whole REST read, for an exchange
that stateless JSON answers make one request and one answer. The handlers, the parameter and
result validation of the protocol version and the middleware (OpenTelemetry) are the SDK's own,
as are everything but that plain case: `initialize`, a notification, a batch, a GET or DELETE,
a client that does not take JSON, a body that is no request, and every 2026-07-28 request go to
the SDK's transport untouched.
"""

from dataclasses import dataclass, field
from typing import Any

import anyio
import orjson
from mcp.server import Server
from mcp.server.connection import Connection
from mcp.server.runner import modern_error_data, serve_one
from mcp.server.streamable_http import check_accept_headers
from mcp.shared.exceptions import NoBackChannelError
from mcp.shared.inbound import MCP_PROTOCOL_VERSION_HEADER
from mcp.shared.message import MessageMetadata, ServerMessageMetadata
from mcp.shared.transport_context import TransportContext
from mcp_types import DEFAULT_NEGOTIATED_VERSION, JSONRPCError, JSONRPCRequest, RequestId
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

_VERSION = MCP_PROTOCOL_VERSION_HEADER.lower().encode("ascii")
# A JSON answer carries the response alone: the SDK's JSON mode has no wire for anything else.
_TRANSPORT = TransportContext(kind="streamable-http", can_send_request=False)


@dataclass
class _Exchange:
    """The SDK's `DispatchContext` for one request answered in JSON: no back channel (stateless,
    as in the SDK's stateless transport), and notifications (progress, logs) go nowhere."""

    request_id: RequestId
    message_metadata: MessageMetadata
    transport: TransportContext = _TRANSPORT
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


def _plain(scope: Scope) -> str | None:
    """The protocol version of a handshake-era POST that takes JSON (or the spec's default for
    none), or None when the request is for the SDK's transport."""
    if scope["method"] != "POST":
        return None
    version = None
    for name, value in scope["headers"]:
        if name == _VERSION:
            version = value.decode("latin-1")
    if version is not None and version not in HANDSHAKE_PROTOCOL_VERSIONS:
        return None  # 2026-07-28, or a version the SDK's transport refuses
    request = Request(scope)
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("application/json"):
        return None
    if not check_accept_headers(request)[0]:
        return None
    return version or DEFAULT_NEGOTIATED_VERSION


def _request(body: bytes) -> JSONRPCRequest | None:
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    # `initialize` is answered by the SDK's transport: it negotiates, once per client.
    if (
        not isinstance(decoded, dict)
        or "id" not in decoded
        or decoded.get("method") == "initialize"
    ):
        return None
    try:
        return JSONRPCRequest.model_validate(decoded, by_name=False)
    except ValidationError:
        return None


async def serve(
    server: Server[Any], state: Any, fallback: Any, scope: Scope, receive: Receive, send: Send
) -> None:
    """Answer a plain handshake-era request here; hand any other to `fallback` (the SDK's
    transport), with the body this read given back to it."""
    version = _plain(scope)
    if version is None:
        await fallback(scope, receive, send)
        return
    request = Request(scope, receive)
    body = await request.body()
    message = _request(body)
    if message is None:
        given = False

        async def replay() -> Message:
            nonlocal given
            if given:
                return await receive()
            given = True
            return {"type": "http.request", "body": body, "more_body": False}

        await fallback(scope, replay, send)
        return
    exchange = _Exchange(message.id, ServerMessageMetadata(request_context=request))
    connection = Connection.from_envelope(version, None, None)
    try:
        result = await serve_one(
            server,
            exchange,
            message.method,
            message.params,
            connection=connection,
            lifespan_state=state,
        )
        answer = orjson.dumps({"jsonrpc": "2.0", "id": message.id, "result": result})
    except Exception as exc:  # the handler's failure, as JSON-RPC says it, and never its text
        error = JSONRPCError(jsonrpc="2.0", id=message.id, error=modern_error_data(exc))
        answer = error.model_dump_json(by_alias=True, exclude_unset=True).encode()
    await Response(answer, media_type="application/json")(scope, receive, send)
