"""Task: T-095
Spec: specs/api/rest-endpoints.md §Speed

Latency in database round trips: the project behind `../shared/bench/latency_proxy.py`, which
delays every packet between the app and PostgreSQL by DELAY_MS each way, as a Neon region
would. One client, one request at a time: a request's median latency divided by 2 x DELAY_MS
is about the number of round trips it made.
"""

import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from bench.peers import PEERS

DELAY_MS = 2.0
LATENCY_PROXY = PEERS.parent / "latency_proxy.py"

Request = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


async def start_proxy(port: int, target: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, str(LATENCY_PROXY), str(port), target, str(DELAY_MS)
    )


def proxied_url(port: int) -> str:
    return f"postgresql://postgres@127.0.0.1:{port}/postgres?sslmode=disable"


async def round_trips(base: str, request: Request, count: int = 40) -> float:
    """Median latency of `request`, sent `count` times one after another, in round trips."""
    latencies = []
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        await request(client)  # warm: the connection, the prepared statement
        for _ in range(count):
            started = time.perf_counter()
            response = await request(client)
            latencies.append(time.perf_counter() - started)
            if response.status_code >= 400:
                raise SystemExit(f"{response.request.url}: {response.status_code} {response.text}")
    return statistics.median(latencies) * 1000 / (2 * DELAY_MS)


def report(name: str, trips: float) -> None:
    print(f"{name:<34} {trips:>6.1f} round trips ({trips * 2 * DELAY_MS:.1f} ms median)")


def socket_folder(url_host_query: str | None) -> str:
    """The embedded server listens on a Unix socket in this folder (the URL's `host=`)."""
    if not url_host_query or not Path(url_host_query).is_dir():
        raise SystemExit("the latency proxy needs the embedded server's socket folder")
    return url_host_query
