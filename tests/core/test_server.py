"""Task: T-075, T-228
Spec: specs/api/rest-endpoints.md §Errors, §Limits; specs/features/plugins.md §Command line

The edge over real connections, spoken to in raw HTTP/1.1 so that what the server does with the
connection (keep it, close it) is visible: `todo-api serve` in its own process, and uvicorn with
the same options in this event loop when a test needs the probe routes.
"""

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import uvicorn

from app.cli import server
from app.cli.server import MAX_HEAD_BYTES, BoundedHttpToolsProtocol, uvicorn_options
from app.core.app import API_PREFIX, create_app
from app.core.plugins.loading import load
from app.core.plugins.plugins_file import PluginsFile
from app.testing import TEST_SECRET, settings_for
from app.testing.database import Templates
from tests.core.plugins_for_tests import Probe, TokenAuth

TODO_API = str(Path(sys.executable).with_name("todo-api"))

# Nothing here touches the database: the app connects lazily, and these routes never ask.
NO_DATABASE = "postgresql://u:p@127.0.0.1:1/x"


@asynccontextmanager
async def listening(tmp_path: Path, **overrides: object) -> AsyncIterator[int]:
    """Serve the kernel with the probe routes on a free loopback port, in this event loop."""
    settings = settings_for(NO_DATABASE, tmp_path, **overrides)
    context = load(
        settings, PluginsFile(enabled=("health",)), {"testauth": TokenAuth(), "probe": Probe()}
    )
    config = uvicorn.Config(
        create_app(settings, context), **uvicorn_options(settings), log_config=None
    )
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


def get(path: str, *headers: str) -> bytes:
    lines = [f"GET {API_PREFIX}{path} HTTP/1.1", "Host: test", *headers, "", ""]
    return "\r\n".join(lines).encode()


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


async def test_forwarded_headers_are_believed_only_from_trusted_proxies(tmp_path):
    request = get("/probe/client", "X-Forwarded-For: 203.0.113.9")
    for trusted, seen in (([], "127.0.0.1"), (["127.0.0.1"], "203.0.113.9")):
        async with listening(tmp_path, forwarded_allow_ips=trusted) as port, asyncio.timeout(10):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request)
            _, _, body = await read_response(reader)
            writer.close()
        assert json.loads(body) == {"host": seen}


def test_serve_options(tmp_path):
    options = uvicorn_options(settings_for(NO_DATABASE, tmp_path))
    assert options["loop"] == "uvloop" and options["http"] is BoundedHttpToolsProtocol
    assert options["server_header"] is False and options["proxy_headers"] is False
    assert options["access_log"] is False
    assert uvicorn_options(settings_for(NO_DATABASE, tmp_path, access_log=True))["access_log"]
    proxied = uvicorn_options(
        settings_for(NO_DATABASE, tmp_path, forwarded_allow_ips="10.0.0.1, 10.1.0.0/16")
    )
    assert proxied["proxy_headers"] is True
    assert proxied["forwarded_allow_ips"] == ["10.0.0.1", "10.1.0.0/16"]


@pytest.fixture(scope="module")
def served(
    todo_api_templates: Templates, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[int]:
    """`todo-api serve` in its own process; the port it listens on."""
    folder = tmp_path_factory.mktemp("serve")
    (folder / "plugins.toml").write_text('[plugins]\nenabled = ["health"]\n')
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = os.environ | {
        # Reachable: serve checks the database before it listens, --no-migrate or not.
        "DATABASE_URL": todo_api_templates.server,
        "JWT_SECRET_KEY": TEST_SECRET,
        "PLUGINS_FILE": str(folder / "plugins.toml"),
        "DATA_DIR": str(folder / "data"),
    }
    command = [TODO_API, "serve", "--no-migrate", "--port", str(port)]
    with (folder / "log").open("w") as log:
        server = subprocess.Popen(command, env=env, cwd=folder, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while server.poll() is None and time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail(f"todo-api serve did not start: {(folder / 'log').read_text()}")
        yield port
    finally:
        server.terminate()
        server.wait(10)


def answer(port: int, data: bytes) -> bytes:
    """Send `data` and read all the server says until it closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        return read_to_end(sock)


def read_to_end(sock: socket.socket) -> bytes:
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def assert_refused(response: bytes) -> None:
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431 ")
    assert b"connection: close" in head.lower()
    assert json.loads(body)["status"] == 431


def test_a_request_within_the_limits_is_served_without_a_server_banner(served):
    fields = [f"X-Field-{i}: {'v' * 100}" for i in range(98)]  # with Host and Connection: 100
    response = answer(served, get("/health", "Connection: close", *fields))
    head = response.partition(b"\r\n\r\n")[0].lower()
    assert head.startswith(b"http/1.1 200 ") and b"\r\nserver:" not in head


def test_more_than_100_header_fields_are_refused(served):
    fields = [f"X-Field-{i}: v" for i in range(99)]  # with Host and Connection: 101
    assert_refused(answer(served, get("/health", "Connection: close", *fields)))


def test_a_head_over_16_kib_is_refused(served):
    assert_refused(answer(served, get("/health", f"X-Big: {'v' * MAX_HEAD_BYTES}")))


def test_a_head_over_16_kib_in_small_reads_is_refused(served):
    head = get("/health", *(f"X-Field-{i}: {'v' * 1000}" for i in range(20)))
    with socket.create_connection(("127.0.0.1", served), timeout=5) as sock:
        half = len(head) // 2 + 1  # two reads, each below the limit
        for start in (0, half):
            sock.sendall(head[start : start + half])
            time.sleep(0.05)
        assert_refused(read_to_end(sock))


def test_a_header_that_never_ends_is_refused_early(served):
    with socket.create_connection(("127.0.0.1", served), timeout=5) as sock:
        sock.sendall(f"GET {API_PREFIX}/health HTTP/1.1\r\nHost: test\r\nX-Big: ".encode())
        sent = 0
        sock.settimeout(0.05)
        while sent < 1024 * 1024:
            try:
                first = sock.recv(65536)  # the server has answered
                break
            except TimeoutError:
                sock.sendall(b"v" * 4096)
                sent += 4096
        sock.settimeout(5)
        assert_refused(first + read_to_end(sock))
    assert sent <= 2 * MAX_HEAD_BYTES


def post(path: str, length: int, *headers: str) -> bytes:
    lines = [
        f"POST {API_PREFIX}{path} HTTP/1.1",
        "Host: test",
        "Content-Type: application/json",
        f"Content-Length: {length}",
        *headers,
        "",
        "",
    ]
    return "\r\n".join(lines).encode()


async def send_body(writer: asyncio.StreamWriter, size: int, piece: int = 64 * 1024) -> int:
    """Send `size` bytes of body in pieces, as a proxy relays one; return how many were sent
    before the connection failed (all of them, if it did not)."""
    sent = 0
    try:
        while sent < size:
            writer.write(b" " * min(piece, size - sent))
            await writer.drain()
            sent += min(piece, size - sent)
            await asyncio.sleep(0)
    except ConnectionError:  # reset, broken pipe
        pass
    return sent


async def test_a_refused_body_is_read_to_its_end_before_the_connection_closes(tmp_path):
    # A reverse proxy sends the whole body before it reads the answer: the 413 given after the
    # head must wait for it, or the proxy's write fails and its client gets a 502.
    size = 5_000_000
    async with listening(tmp_path, max_body_bytes=1000) as port, asyncio.timeout(30):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(post("/probe/strict", size))
            assert await send_body(writer, size) == size
            status, headers, body = await read_response(reader)
            assert status == 413 and headers["connection"] == "close"
            assert json.loads(body)["status"] == 413
            assert await reader.read() == b""  # closed, not reset
        finally:
            writer.close()


async def test_a_refused_body_is_read_only_so_far(tmp_path, monkeypatch):
    monkeypatch.setattr(server, "LINGER_BYTES", 1_000_000)
    declared = 200_000_000
    async with listening(tmp_path, max_body_bytes=1000) as port, asyncio.timeout(60):
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(post("/probe/strict", declared))
            sent = await send_body(writer, declared)
        finally:
            writer.close()
    # What the server read, and what the sockets' buffers held when it closed.
    assert sent < declared // 10


async def test_a_client_that_stops_sending_is_closed_after_the_linger(tmp_path, monkeypatch):
    monkeypatch.setattr(server, "LINGER_SECONDS", 0.2)
    async with listening(tmp_path, max_body_bytes=1000) as port, asyncio.timeout(10):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(post("/probe/strict", 5_000_000) + b" " * 2000)
            status, _, _ = await read_response(reader)
            assert status == 413
            assert await asyncio.wait_for(reader.read(), 3) == b""
        finally:
            writer.close()


async def test_nothing_after_a_refused_body_is_served(tmp_path):
    async with listening(tmp_path, max_body_bytes=1000) as port, asyncio.timeout(10):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(post("/probe/strict", 2000))
            status, headers, _ = await read_response(reader)  # answered on the head alone
            assert status == 413 and headers["connection"] == "close"
            writer.write(b" " * 2000 + get("/probe/open"))  # the body, then another request
            assert await reader.read() == b""
        finally:
            writer.close()
