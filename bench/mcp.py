"""Task: T-445, T-453
Spec: specs/features/mcp.md §Speed

The MCP server in `make bench`: a tools/call of `list_tasks` (the first page) and of `get_task`,
each beside the matching REST call (`GET /tasks`, `GET /tasks/{id}`), both over HTTP with the
same token, one JSON-RPC POST per call (the server is stateless), in both protocol eras: after
the `initialize` handshake (2025-11-25, what clients speak today) and with the per-request
envelope of 2026-07-28 (no handshake). The target: at most 1.5x the REST call's cost, its
mean latency under the same clients.

`python -m bench.mcp` runs this part alone, on its own server and database.
"""

import asyncio
import itertools
import random
import statistics
import sys
from collections.abc import Awaitable

import httpx

TASKS = "/api/v1/tasks"
MCP = "/api/v1/mcp"
_ids = itertools.count()


MODERN = "2026-07-28"
ENVELOPE = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientCapabilities": {},
}


def tool_call(name: str, arguments: dict[str, str], modern: bool = False) -> dict[str, object]:
    params: dict[str, object] = {"name": name, "arguments": arguments}
    if modern:
        params["_meta"] = ENVELOPE
    return {"jsonrpc": "2.0", "id": next(_ids), "method": "tools/call", "params": params}


def modern_headers(auth: dict[str, str], tool: str) -> dict[str, str]:
    """The headers of a 2026-07-28 tools/call: the version, method and tool name repeated."""
    return auth | {
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": MODERN,
        "Mcp-Method": "tools/call",
        "Mcp-Name": tool,
    }


async def initialized(base: str, auth: dict[str, str]) -> dict[str, str]:
    """The headers an MCP client sends on each call after its handshake (once, then none)."""
    headers = auth | {"Accept": "application/json, text/event-stream"}
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        answer = await client.post(
            MCP,
            headers=headers,
            json={
                "jsonrpc": "2.0",
                "id": 0,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "bench", "version": "1"},
                },
            },
        )
        answer.raise_for_status()
        version = answer.json()["result"]["protocolVersion"]
    return headers | {"MCP-Protocol-Version": version}


async def measure(base: str, auth: dict[str, str], seconds: float, concurrency: int) -> None:
    from bench.__main__ import compare

    headers = await initialized(base, auth)
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        ids = [task["id"] for task in (await client.get(TASKS, headers=auth)).json()]
        for modern in (False, True):
            probe = await client.post(
                MCP,
                headers=modern_headers(auth, "get_task") if modern else headers,
                json=tool_call("get_task", {"task_id": ids[0]}, modern),
            )
            if probe.status_code != 200 or "result" not in probe.json():
                raise SystemExit(f"MCP get_task failed: {probe.text[:300]}")

    def rest_list(client: httpx.AsyncClient) -> Awaitable[httpx.Response]:
        return client.get(TASKS, headers=auth)

    def mcp_list(client: httpx.AsyncClient) -> Awaitable[httpx.Response]:
        return client.post(MCP, headers=headers, json=tool_call("list_tasks", {}))

    modern_list, modern_get = modern_headers(auth, "list_tasks"), modern_headers(auth, "get_task")

    def mcp_list_modern(client: httpx.AsyncClient) -> Awaitable[httpx.Response]:
        return client.post(MCP, headers=modern_list, json=tool_call("list_tasks", {}, True))

    def mcp_get_modern(client: httpx.AsyncClient) -> Awaitable[httpx.Response]:
        call = tool_call("get_task", {"task_id": random.choice(ids)}, True)
        return client.post(MCP, headers=modern_get, json=call)

    def rest_get(client: httpx.AsyncClient) -> Awaitable[httpx.Response]:
        return client.get(f"{TASKS}/{random.choice(ids)}", headers=auth)

    def mcp_get(client: httpx.AsyncClient) -> Awaitable[httpx.Response]:
        return client.post(
            MCP, headers=headers, json=tool_call("get_task", {"task_id": random.choice(ids)})
        )

    # Each pair's cost is its mean latency: at a fixed number of clients kept busy it is the
    # clients over the throughput (Little's law), the server's time a call. The median is shown
    # beside it, but under 16 clients it follows how the waits are shared out, not the work:
    # a REST page's median was 16.6 ms against a mean of 26.4 (a long tail), MCP's 26.4 and 29.
    lists = {
        "REST GET /tasks": rest_list,
        "MCP list_tasks": mcp_list,
        "MCP list_tasks, 2026-07-28": mcp_list_modern,
    }
    gets = {
        "REST GET /tasks/{id}": rest_get,
        "MCP get_task": mcp_get,
        "MCP get_task, 2026-07-28": mcp_get_modern,
    }
    means: dict[str, float] = {}
    for pairs in (lists, gets):
        means |= await compare(base, pairs, seconds, concurrency, statistic=statistics.fmean)
    for mcp, rest in (
        ("MCP list_tasks", "REST GET /tasks"),
        ("MCP list_tasks, 2026-07-28", "REST GET /tasks"),
        ("MCP get_task", "REST GET /tasks/{id}"),
        ("MCP get_task, 2026-07-28", "REST GET /tasks/{id}"),
    ):
        ratio = means[mcp] / means[rest]
        verdict = "within" if ratio <= 1.5 else "OVER"
        print(f"{mcp} / {rest}: {ratio:.2f}x mean latency, the cost ({verdict} the 1.5x target)")


async def alone(seconds: float, concurrency: int) -> None:
    from bench.__main__ import running, seed

    async with running("todo-bench-mcp-") as project:
        await seed(project.dsn, project.small.id, project.big.id, 0)
        print(f"\n{'scenario':<28} {'req/s':>9} {'median ms':>10} {'p99 ms':>10}")
        await measure(project.base, project.small.headers, seconds, concurrency)


if __name__ == "__main__":
    asyncio.run(alone(float(sys.argv[1]) if len(sys.argv) > 1 else 3.0, 16))
