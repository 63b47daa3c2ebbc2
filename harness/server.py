"""Task: T-080
Spec: specs/operations/battery.md §Harness

Real servers for the benchmark and the fault battery: a fresh embedded PostgreSQL, a
`todo-api serve` subprocess on a free loopback port, and accounts made through the API.

Both tools start everything themselves in a temporary folder so a run never depends on, or
disturbs, a developer's `.data` database or a server already listening on port 8000.
"""

import asyncio
import os
import secrets
import socket
import sys
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import make_url

# Loopback only: the tools send load and faults, which must never leave this machine.
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def asyncpg_dsn(url: str) -> str:
    """The SQLAlchemy URL the app takes, as a DSN asyncpg and libpq take (socket in `host`)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def wait_ready(base: str, server: asyncio.subprocess.Process, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=base) as client:
        while time.monotonic() < deadline:
            if server.returncode is not None:
                raise SystemExit(f"the server on {base} exited during start-up")
            try:
                if (await client.get("/api/v1/health/ready")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit(f"the server on {base} did not become ready")


@asynccontextmanager
async def serving(
    database_url: str,
    data_dir: Path,
    *,
    secret: str | None = None,
    log: Path | None = None,
    env: dict[str, str] | None = None,
) -> AsyncIterator[str]:
    """Run `todo-api serve` (one worker, migrating at start-up) and yield its base URL.

    Instances meant to share users must share `secret`: each verifies the others' tokens.
    `log` collects the server's output; without it the output goes to this terminal.
    """
    port = free_port()
    base = f"http://{HOST}:{port}"
    environment = os.environ | {
        "DATABASE_URL": database_url,
        "JWT_SECRET_KEY": secret or secrets.token_urlsafe(48),
        "LOG_LEVEL": "WARNING",
        "DATA_DIR": str(data_dir),
    }
    todo_api = Path(sys.executable).with_name("todo-api")
    command = (todo_api, "serve", "--host", HOST, "--port", str(port))
    server = await start(command, log, env=environment | (env or {}))
    try:
        await wait_ready(base, server)
        yield base
    finally:
        if server.returncode is None:
            server.terminate()
        await server.wait()



async def start(
    command: Sequence[str | Path], log: Path | None, env: Mapping[str, str] | None = None
) -> asyncio.subprocess.Process:
    """`command` as a child process, its output appended to `log` (None lets it through)."""
    # A descriptor, closed once the child holds its own copy.
    output = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644) if log else None
    try:
        return await asyncio.create_subprocess_exec(
            *command, env=env, stdout=output, stderr=output
        )
    finally:
        if output is not None:
            os.close(output)

@dataclass(frozen=True)
class Account:
    id: str
    headers: dict[str, str]  # the access token as an Authorization header
    refresh_token: str


async def account(client: httpx.AsyncClient, email: str) -> Account:
    """Register and log in through the API."""
    password = secrets.token_urlsafe(16)
    registered = await client.post(
        "/api/v1/auth/register", json={"email": email, "password": password}
    )
    registered.raise_for_status()
    login = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    login.raise_for_status()
    tokens = login.json()
    return Account(
        id=registered.json()["id"],
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        refresh_token=tokens["refresh_token"],
    )
