"""Task: T-198, T-224
Spec: specs/features/webhooks.md §Testing

Fixtures for the webhooks tests: a receiver on loopback (a stdlib asyncio HTTP server whose
answers a test scripts), apps that allow it through `OUTBOUND_ALLOW_HOSTS=127.0.0.1` with a
job worker and a retry schedule of fractions of a second, and users of those apps.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from app.testing import ApiUser, sign_up
from app.testing.plugin import AppMaker

ENABLED = ("health", "auth", "changes", "jobs", "tasks", "webhooks")
WEBHOOKS = "/api/v1/webhooks"
TASKS = "/api/v1/tasks"
FAST = {
    "jobs": {"lease_seconds": 2, "poll_seconds": 0.2},
    "changes": {"poll_seconds": 0.2},
    "webhooks": {"retry_schedule_seconds": [0.5, 1.0, 1.5], "jitter": 0},
}


@dataclass
class Received:
    at: float
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """An HTTP/1.1 server on 127.0.0.1: each request is recorded, then answered by the next
    scripted answer (`(status, headers)`), or 200 when the script is spent, `delay` seconds
    after the request came. It closes each connection after one answer unless `keep_alive`;
    `connections` counts those opened, `most_at_once` the most requests it held at once."""

    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    port: int = 0
    server: asyncio.Server | None = None
    keep_alive: bool = False
    connections: int = 0
    delay: float = 0.0
    at_once: int = 0
    most_at_once: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while await self._answer(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; whether the connection stays open for another."""
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        request_line, *lines = head.split("\r\n")
        pairs = (line.split(": ", 1) for line in lines if ": " in line)
        headers = {name.lower(): value for name, value in pairs}
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        self.received.append(Received(time.monotonic(), request_line.split()[1], headers, body))
        self.at_once += 1
        self.most_at_once = max(self.most_at_once, self.at_once)
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.at_once -= 1
        code, extra = self.script.pop(0) if self.script else (200, {})
        if not self.keep_alive:
            extra = {"connection": "close", **extra}
        more = "".join(f"{name}: {value}\r\n" for name, value in extra.items())
        writer.write(f"HTTP/1.1 {code} X\r\ncontent-length: 2\r\n{more}\r\nok".encode())
        await writer.drain()
        return self.keep_alive

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    await receiver.start()
    yield receiver
    await receiver.close()


@pytest.fixture
def start_app(make_client: AppMaker) -> Callable[..., Awaitable[Any]]:
    """An app with a job worker, the fast schedule, and loopback allowed unless overridden:
    `await start_app(tables={...}, environment={"OUTBOUND_ALLOW_HOSTS": ...})`."""

    async def start(
        tables: dict[str, dict[str, Any]] | None = None,
        environment: dict[str, str] | None = None,
        **overrides: Any,
    ) -> Any:
        merged = {name: FAST.get(name, {}) | (tables or {}).get(name, {}) for name in FAST}
        environment = {"OUTBOUND_ALLOW_HOSTS": "127.0.0.1"} | (environment or {})
        return await make_client(
            enabled=ENABLED, tables=merged, environment=environment, **overrides
        )

    return start


@pytest.fixture
async def app_client(start_app: Callable[..., Awaitable[Any]]) -> Any:
    return await start_app()


@pytest.fixture
def new_user(app_client: Any) -> Callable[[], Awaitable[ApiUser]]:
    return lambda: sign_up(app_client, ApiUser)


async def register(user: ApiUser, url: str, **body: Any) -> dict[str, Any]:
    response = await user.post(WEBHOOKS, json={"url": url, **body})
    assert response.status_code == 201, response.text
    return response.json()


async def deliveries(user: ApiUser, webhook_id: str) -> list[dict[str, Any]]:
    response = await user.get(f"{WEBHOOKS}/{webhook_id}/deliveries")
    assert response.status_code == 200, response.text
    return response.json()
