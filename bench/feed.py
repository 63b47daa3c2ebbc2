"""Task: T-144
Spec: specs/api/rest-endpoints.md §Changes, §Speed

The change feed in `make bench`: how long a change made on one instance takes to reach a stream
held on another (two `todo-api serve` processes on one database, LISTEN/NOTIFY between them),
and 100 creates in one batch beside 100 single creates through the latency proxy.
"""

import statistics
import time

import httpx

from bench import roundtrips
from harness.sse import events, next_event

TASKS = "/api/v1/tasks"
STREAM = "/api/v1/changes/stream"


async def delivery(writer: str, reader: str, auth: dict[str, str], count: int = 50) -> None:
    """Create `count` tasks one after another on `writer`; each time, how long until the change
    arrives on a stream held on `reader` (from sending the create)."""
    latencies = []
    async with (
        httpx.AsyncClient(base_url=writer, timeout=30) as writes,
        httpx.AsyncClient(base_url=reader, timeout=30) as reads,
        reads.stream("GET", STREAM, params={"since": "now"}, headers=auth) as response,
    ):
        stream = events(response)
        for n in range(count + 1):
            started = time.perf_counter()
            created = await writes.post(TASKS, json={"title": f"Streamed {n}"}, headers=auth)
            change = await next_event(stream)
            if change.data["id"] != created.json()["id"]:
                raise SystemExit(f"the stream sent {change.data['id']}, not the task just created")
            if n:  # the first one warms the listener connection and prepared statements
                latencies.append(time.perf_counter() - started)
    ordered = sorted(latencies)
    print(
        f"\nchange feed: create on instance A -> event on a stream on instance B, {count} changes:"
        f" p50 {statistics.median(ordered) * 1000:.1f} ms,"
        f" p99 {ordered[int(len(ordered) * 0.99) - 1] * 1000:.1f} ms,"
        f" max {ordered[-1] * 1000:.1f} ms"
    )


async def batch_versus_single(base: str, auth: dict[str, str], count: int = 100) -> None:
    """Through the latency proxy: `count` creates one request each, then in one batch."""
    body = {"operations": [{"op": "create", "task": {"title": "Batched"}}] * count}

    async def batched(client: httpx.AsyncClient) -> httpx.Response:
        response = await client.post(f"{TASKS}/batch", json=body, headers=auth)
        if any(result["status"] != 201 for result in response.json()["results"]):
            raise SystemExit(f"the batch failed: {response.text[:300]}")
        return response

    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        await batched(client)  # warm: prepared statements on the connections used
        started = time.perf_counter()
        for _ in range(count):
            (await client.post(TASKS, json={"title": "Single"}, headers=auth)).raise_for_status()
        single = time.perf_counter() - started
        started = time.perf_counter()
        await batched(client)
        together = time.perf_counter() - started
    print(
        f"{count} creates through the proxy: one request each {single * 1000:.0f} ms,"
        f" one batch {together * 1000:.0f} ms: {single / together:.1f}x faster (target: 10x)"
    )
    roundtrips.report(f"batch of {count} creates", await roundtrips.round_trips(base, batched, 10))
