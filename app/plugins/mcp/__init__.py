"""Task: T-440, T-441, T-442, T-443
Spec: specs/features/mcp.md

The mcp plugin: a Model Context Protocol server at `/api/v1/mcp` (the official SDK, stateless
Streamable HTTP) whose tools read and change the caller's tasks by calling the API's own routes
in this process, with the caller's own token; and the OAuth protected-resource metadata (RFC
9728) that tells MCP clients where tokens come from.
"""

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import APIRouter, FastAPI
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from pydantic import BaseModel

from app.core import Context, hookimpl
from app.plugins.mcp.routes import Serving, build_router
from app.plugins.mcp.server import build_server
from app.plugins.mcp.settings import McpSettings

NAME = "mcp"


def _serving(context: Context) -> Serving:
    return context.shared(NAME, Serving)


@hookimpl
def requires() -> Sequence[str]:
    return ["auth", "tasks"]


@hookimpl
def settings_model() -> type[BaseModel]:
    return McpSettings


@hookimpl
def routers(context: Context) -> Sequence[APIRouter]:
    config = context.settings_for(NAME, McpSettings)
    return [build_router(_serving(context), config)]


@hookimpl
def lifespan(context: Context) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    state = _serving(context)

    @asynccontextmanager
    async def serving(app: FastAPI) -> AsyncIterator[None]:
        # Stateless, JSON answers: any instance answers any request (no sticky sessions, no
        # session store), and a call is one POST and one JSON answer (specs/features/mcp.md).
        server = build_server(app)
        manager = StreamableHTTPSessionManager(app=server, json_response=True, stateless=True)
        started, stopping = asyncio.Event(), asyncio.Event()

        async def run() -> None:
            # In a task of its own: the SDK's task group must be left by the task that entered
            # it, and an app's lifespan may be entered and left by different tasks.
            # The server's lifespan state for the requests answered outside the manager (see
            # exchange.py); the manager enters the lifespan for its own.
            async with manager.run(), server.lifespan(server) as lifespan_state:
                state.server, state.manager, state.state = server, manager, lifespan_state
                started.set()
                try:
                    await stopping.wait()
                finally:
                    state.server = state.manager = state.state = None

        running = asyncio.create_task(run())
        ready = asyncio.create_task(started.wait())
        await asyncio.wait((running, ready), return_when=asyncio.FIRST_COMPLETED)
        if running.done():  # it failed to start: say why, rather than wait for ever
            ready.cancel()
            running.result()
        try:
            yield
        finally:
            stopping.set()
            await running

    return serving
