"""Task: T-225
Spec: specs/operations/battery.md §Fan-out; specs/features/webhooks.md §Fairness

One user's webhook fan-out against a real server, measured from outside: a receiver on
loopback (keep-alive HTTP/1.1, answers 200 at once, records each delivery), one user with 20
endpoints sending one 100-operation batch (2,000 deliveries), another user whose single
deliveries are timed meanwhile, and a third user's list p50 idle and during the fan-out.
Shared by the battery (`fanout`: nothing lost or duplicated) and the bench (the targets).
"""

import asyncio
import json
import secrets
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from harness.server import HOST, Account, account

ENDPOINTS = 20
OPERATIONS = 100
FAN_OUT = ENDPOINTS * OPERATIONS
# Loopback must be allowed for the server's outbound client to reach the receiver.
ENVIRONMENT = {"OUTBOUND_ALLOW_HOSTS": HOST}


@dataclass
class Receiver:
    """Records `(path, webhook-id, task id, arrival)` for every request; answers 200."""

    received: list[tuple[str, str, str, float]] = field(default_factory=list)
    server: asyncio.Server | None = None
    port: int = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, HOST, 0)
        self.port = self.server.sockets[0].getsockname()[1]

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode()
                request_line, *lines = head.split("\r\n")
                headers = dict(line.lower().split(": ", 1) for line in lines if ": " in line)
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                task = str(json.loads(body)["data"]["id"])
                path = request_line.split()[1]
                self.received.append((path, headers["webhook-id"], task, time.monotonic()))
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


@dataclass
class Fanout:
    received: int  # the fan-out's deliveries that arrived, once or more
    duplicated: int  # of those, arrived more than once
    seconds: float  # from the batch's answer to its last delivery
    others: list[float]  # another user's delivery latencies, seconds
    others_lost: int
    list_idle_ms: float  # p50
    list_during_ms: float
    statuses: Counter[int]  # of every API request made

    @property
    def lost(self) -> int:
        return FAN_OUT - self.received


async def _lists(
    client: httpx.AsyncClient, user: Account, stop: asyncio.Event, statuses: Counter[int]
) -> list[float]:
    """List p50 material: four clients listing one after the other until `stop`."""
    latencies: list[float] = []

    async def lister() -> None:
        while not stop.is_set():
            started = time.perf_counter()
            response = await client.get("/api/v1/tasks", headers=user.headers)
            latencies.append((time.perf_counter() - started) * 1000)
            statuses[response.status_code] += 1
            await asyncio.sleep(0.01)

    await asyncio.gather(*(lister() for _ in range(4)))
    return latencies


async def _until(check: Callable[[], bool], seconds: float) -> None:
    """Wait until `check()` holds, or `seconds` have passed (the caller counts what came)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        await asyncio.sleep(0.1)


async def measure(base: str, within: float = 300) -> Fanout:
    """Run the fan-out against the server at `base` (started with `ENVIRONMENT`)."""
    receiver = Receiver()
    await receiver.start()
    statuses: Counter[int] = Counter()
    try:
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            run = secrets.token_hex(4)
            fanner, other, lister = [
                await account(client, f"fanout-{run}-{role}@example.com")
                for role in ("fanner", "other", "lister")
            ]

            async def post(user: Account, path: str, body: object) -> httpx.Response:
                response = await client.post(path, json=body, headers=user.headers)
                statuses[response.status_code] += 1
                response.raise_for_status()
                return response

            for n in range(ENDPOINTS):
                await post(fanner, "/api/v1/webhooks", {"url": receiver.url(f"/fanner/{n}")})
            await post(other, "/api/v1/webhooks", {"url": receiver.url("/other")})
            for n in range(20):
                await post(lister, "/api/v1/tasks", {"title": f"listed {n}"})

            stop = asyncio.Event()
            idle = asyncio.create_task(_lists(client, lister, stop, statuses))
            await asyncio.sleep(5)
            stop.set()
            list_idle = await idle

            operations = [
                {"op": "create", "task": {"title": f"fan-out {n}"}} for n in range(OPERATIONS)
            ]
            await post(fanner, "/api/v1/tasks/batch", {"operations": operations})
            started = time.monotonic()
            stop = asyncio.Event()
            during = asyncio.create_task(_lists(client, lister, stop, statuses))

            def fanned() -> int:
                return len({r[1] for r in receiver.received if r[0].startswith("/fanner/")})

            # Another user's single writes while the fan-out is under way, one a second.
            sent: dict[str, float] = {}
            while fanned() < FAN_OUT and len(sent) < 10:
                if time.monotonic() - started > within:
                    break
                task = (await post(other, "/api/v1/tasks", {"title": "mine"})).json()
                sent[task["id"]] = time.monotonic()
                await asyncio.sleep(1)
            await _until(lambda: fanned() >= FAN_OUT, within - (time.monotonic() - started))
            finished = time.monotonic()
            stop.set()
            list_during = await during

            def others_arrived() -> dict[str, float]:
                return {r[2]: r[3] for r in receiver.received if r[0] == "/other"}

            await _until(lambda: not set(sent) - set(others_arrived()), 30)
            await asyncio.sleep(2)  # late duplicates, if any, arrive
            arrived = others_arrived()
            fanner_ids = Counter(r[1] for r in receiver.received if r[0].startswith("/fanner/"))
            return Fanout(
                received=len(fanner_ids),
                duplicated=sum(1 for count in fanner_ids.values() if count > 1),
                seconds=finished - started,
                others=[arrived[task] - at for task, at in sent.items() if task in arrived],
                others_lost=len(set(sent) - set(arrived)),
                list_idle_ms=statistics.median(list_idle),
                list_during_ms=statistics.median(list_during),
                statuses=statuses,
            )
    finally:
        await receiver.close()
