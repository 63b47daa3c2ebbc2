"""Task: T-075
Spec: specs/api/rest-endpoints.md §Errors; specs/features/plugins.md §Assembly

The edge over real connections: a uvicorn server on a loopback socket, spoken to in raw HTTP/1.1
so that what the server does with the connection (keep it, close it) is visible.
"""

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import uvicorn

from app.core.app import API_PREFIX, create_app
from app.core.plugins import load
from app.core.plugins_file import PluginsFile
from tests.conftest import settings_for
from tests.core.plugins_for_tests import Probe, TokenAuth

# Nothing here touches the database: the app connects lazily, and these routes never ask.
NO_DATABASE = "postgresql://u:p@127.0.0.1:1/x"


@asynccontextmanager
async def listening(tmp_path: Path, **overrides: object) -> AsyncIterator[int]:
    """Serve the kernel with the probe routes on a free loopback port, in this event loop."""
    settings = settings_for(NO_DATABASE, tmp_path, **overrides)
    context = load(
        settings, PluginsFile(enabled=("health",)), {"testauth": TokenAuth(), "probe": Probe()}
    )
    config = uvicorn.Config(create_app(settings, context), http="httptools", log_config=None)
    server = uvicorn.Server(config)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()  # connections wait in the backlog until the server has started
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        await task


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response with a Content-Length body: status, headers, body."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    status = int(head[0].split()[1])
    headers = dict(line.lower().split(": ", 1) for line in head[1:] if line)
    return status, headers, await reader.readexactly(int(headers["content-length"]))


def get(path: str) -> bytes:
    return f"GET {API_PREFIX}{path} HTTP/1.1\r\nHost: test\r\n\r\n".encode()


async def test_a_500_leaves_the_connection_usable(tmp_path):
    async with listening(tmp_path) as port, asyncio.timeout(10):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(get("/probe/crash"))
            status, headers, _ = await read_response(reader)
            assert status == 500 and headers.get("connection") != "close"
            writer.write(get("/probe/open"))  # the same connection, kept alive
            status, _, body = await read_response(reader)
            assert (status, body) == (200, b'{"ok":"yes"}')
        finally:
            writer.close()
