"""Task: T-441, T-443, T-447, T-449
Spec: specs/features/mcp.md §Transport, §Authentication, §Protected-resource metadata

`POST /api/v1/mcp`: the Streamable HTTP endpoint, behind the kernel's bearer authentication
(its 401 names the metadata below); and the RFC 9728 protected-resource metadata, at the
well-known paths MCP clients look up.
"""

from typing import Any

from fastapi import APIRouter, Request, Response
from mcp.server import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.types import Receive, Scope, Send

from app.core import (
    CurrentUser,
    known_scopes,
    protected_resource,
    public,
    scoped_per_call,
    well_known,
)
from app.plugins.mcp import exchange
from app.plugins.mcp.server import PRINCIPAL
from app.plugins.mcp.settings import McpSettings

ENDPOINT = "/api/v1/mcp"
METADATA = "/.well-known/oauth-protected-resource"


class Serving:
    """The SDK's server, its session manager and the server's lifespan state, made when the app
    starts (the server needs the whole app)."""

    server: Server[Any] | None = None
    manager: StreamableHTTPSessionManager | None = None
    state: Any = None


class _Transport(Response):
    """Hands the request to the SDK's transport, which answers it itself."""

    def __init__(self, serving: Serving) -> None:
        super().__init__()
        self.serving = serving

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        serving = self.serving
        assert serving.server is not None and serving.manager is not None, "not started"
        await exchange.serve(
            serving.server, serving.state, serving.manager.handle_request, scope, receive, send
        )


def build_router(serving: Serving, config: McpSettings) -> APIRouter:
    router = APIRouter(tags=["mcp"])

    @router.post(
        "/mcp",
        name="mcp",
        summary="The MCP server (Streamable HTTP, JSON-RPC)",
        description="A Model Context Protocol endpoint (stateless Streamable HTTP, JSON "
        "responses) whose tools read and change your tasks; any valid token may connect, and "
        "each tool needs its scope. See specs/features/mcp.md.",
        include_in_schema=False,
    )
    @scoped_per_call
    @protected_resource(METADATA + ENDPOINT)
    async def mcp(request: Request, user: CurrentUser) -> Response:
        request.scope[PRINCIPAL] = user
        return _Transport(serving)

    def metadata(request: Request) -> dict[str, Any]:
        origin = str(request.base_url).rstrip("/")
        scopes = [s for s in known_scopes(request.app) if s.startswith("tasks:")]
        return {
            "resource": origin + ENDPOINT,
            "authorization_servers": config.authorization_servers or [origin],
            "scopes_supported": scopes,
            "bearer_methods_supported": ["header"],
            "resource_name": "Todo API (MCP)",
            "resource_documentation": origin + "/api/v1/docs",
        }

    for path in (METADATA + ENDPOINT, METADATA):

        @router.get(path, include_in_schema=False)
        @public
        @well_known
        async def resource_metadata(request: Request) -> dict[str, Any]:
            return metadata(request)

    return router
