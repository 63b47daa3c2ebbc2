"""Task: T-095
Spec: specs/api/rest-endpoints.md §Speed

The project beside its peers, on one PostgreSQL, measured by wrk in one run.

The peers live in `../shared/bench/peers/`: the founding spec's backend as written
(`seed_reference`) and the floor of the stack (`floor_of_stack.py`). They get a database of
their own on the same server (their `seed_data.py` drops and creates its own `users` and
`tasks`), 50 users x 20 tasks, and the same JWT secret. The project gets the same data shape in
its own database, with tokens it issued itself.
"""

import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PEERS = Path(__file__).resolve().parents[2] / "shared" / "bench" / "peers"
USERS, TASKS_PER_USER = 50, 20


@dataclass(frozen=True)
class Throughput:
    requests: int
    per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def combined(parts: Sequence[Throughput]) -> Throughput:
    """Slices of one run (of equal length) as one: the mean rate, the median slice's p50 and
    the worst slice's p99 (slices keep no histogram to merge)."""
    return Throughput(
        sum(part.requests for part in parts),
        statistics.fmean(part.per_second for part in parts),
        statistics.median(part.p50_ms for part in parts),
        max(part.p99_ms for part in parts),
        sum(part.errors for part in parts),
    )


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def parse_wrk(output: str) -> Throughput:
    percentile = {
        p: _ms(v, u)
        for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
    }
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    per_second = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    errors = int(non_2xx.group(1)) if non_2xx else 0
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return Throughput(requests, per_second, percentile["50"], percentile["99"], errors)


async def wrk(
    base: str,
    tokens: Path,
    seconds: float,
    connections: int,
    method: str = "GET",
    body: str | None = None,
) -> Throughput:
    """`wrk -t1 -cN` with the peers' token-rotating script (one user per token)."""
    env = os.environ | {"TOKENS": str(tokens), "METHOD": method}
    if body is not None:
        env["BODY"] = body
    process = await asyncio.create_subprocess_exec(
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{round(seconds)}s",
        "--latency",
        "-s",
        str(PEERS / "tokens.lua"),
        f"{base}/api/v1/tasks",
        env=env,
        stdout=subprocess.PIPE,
    )
    output, _ = await process.communicate()
    try:
        return parse_wrk(output.decode())
    except (AttributeError, KeyError):
        raise SystemExit(f"wrk against {base} said:\n{output.decode()}") from None


async def seed_peers(dsn: str, secret: str, tokens: Path) -> None:
    """The peers' schema and data, and one token per user in `tokens`."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(PEERS / "seed_data.py"),
        str(USERS),
        str(TASKS_PER_USER),
        env=os.environ | {"DATABASE_URL": dsn, "JWT_SECRET_KEY": secret},
        stdout=subprocess.PIPE,
    )
    output, _ = await process.communicate()
    if process.returncode != 0:
        raise SystemExit("seeding the peers' database failed")
    await asyncio.to_thread(tokens.write_bytes, output)


async def start_peer(name: str, port: int, dsn: str, secret: str) -> asyncio.subprocess.Process:
    """`seed` (the founding spec's app, SQL echo off) or `floor`, one uvicorn worker each."""
    app, folder = {
        "seed": ("app.main:app", PEERS / "seed_reference"),
        "floor": ("floor_of_stack:app", PEERS),
    }[name]
    env = os.environ | {
        "DATABASE_URL": dsn.replace("postgresql://", "postgresql+asyncpg://", 1),
        "JWT_SECRET_KEY": secret,
        "SEED_ECHO": "0",
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
        cwd=folder,
        env=env,
    )
