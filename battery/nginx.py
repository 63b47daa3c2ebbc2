"""Task: T-229
Spec: specs/operations/battery.md §nginx in front

Scenario: the app behind nginx whose `client_max_body_size` (20 MiB) is above the app's
`MAX_BODY_BYTES` (1 MiB), so bodies over the app's limit reach the app. nginx buffers the body,
then sends it whole; were the app to close the connection while nginx is still sending, nginx
would get a broken pipe and answer 502. Each over-limit body must come back as the app's 413,
and a normal request through the same nginx must still be served.

Debian's nginx, run in the foreground with its configuration, pid, logs and temporary files in
the scenario's folder, listening on a free loopback port.
"""

import asyncio
import shutil
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from battery.ledger import Ledger
from battery.load import TIMEOUT, accounts, send
from battery.postgres import fresh_postgres
from battery.report import Table
from harness.server import HOST, free_port, serving, start

MiB = 1024 * 1024
CONFIG = """\
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log info;
events {{ worker_connections 512; }}
http {{
    access_log {folder}/access.log;
    # Bodies stay in memory: nginx's worker may run as another user than the folder's owner.
    client_max_body_size 20m;
    client_body_buffer_size 20m;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    server {{
        listen {host}:{port};
        location / {{
            proxy_pass {upstream};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
}}
"""
# Bodies over the app's 1 MiB, under nginx's 20 MiB: (label, path, size).
OVER_THE_LIMIT = [
    ("5 MB to POST /tasks", "/api/v1/tasks", 5_000_000),
    ("5 MB to POST /tasks/batch", "/api/v1/tasks/batch", 5_000_000),
    ("5 MB to POST /auth/login (64 KiB)", "/api/v1/auth/login", 5_000_000),
    ("15 MB to POST /tasks", "/api/v1/tasks", 15_000_000),
]
TIMES = 5  # each, one after another
AT_ONCE = 60


def binary() -> str:
    # Debian installs it in /usr/sbin, which is not on every user's PATH.
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if found is None:
        raise RuntimeError("nginx is not installed (`make battery` installs Debian's)")
    return found


async def wait_listening(port: int, process: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.returncode is not None:
            raise RuntimeError("nginx exited during start-up (see its error.log)")
        try:
            socket.create_connection((HOST, port), timeout=1).close()
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise RuntimeError("nginx did not start listening")


def configure(upstream: str, folder: Path, port: int) -> list[str]:
    """Write nginx's configuration into `folder`; return the command that runs it."""
    folder.mkdir()
    config = folder / "nginx.conf"
    config.write_text(CONFIG.format(folder=folder, host=HOST, port=port, upstream=upstream))
    # -e: the log for errors before the configuration is read (not /var/log/nginx).
    return [binary(), "-p", str(folder), "-c", str(config), "-e", str(folder / "error.log")]


def judge(ledger: Ledger, label: str, answers: list[httpx.Response | None]) -> None:
    """Note the answers; each must be the app's own 413 (a problem), not nginx's 502."""
    statuses = Counter(str(a.status_code) if a is not None else "no answer" for a in answers)
    ledger.notes.append(f"{label}: {' '.join(f'{s} x{n}' for s, n in sorted(statuses.items()))}")
    refused = [
        answer
        for answer in answers
        if answer is not None
        and answer.status_code == 413
        and answer.headers.get("content-type") == "application/problem+json"
    ]
    if len(refused) != len(answers):
        ledger.problems.append(f"{label}: not every answer was the app's 413")


def broken_connections(error_log: Path) -> int:
    """Lines of nginx's error log where the app dropped a connection nginx was using."""
    signs = ("Broken pipe", "Connection reset", "prematurely closed")
    return sum(any(sign in line for sign in signs) for line in error_log.read_text().splitlines())


@asynccontextmanager
async def nginx(upstream: str, folder: Path) -> AsyncIterator[str]:
    """nginx in front of `upstream`; yields its base URL."""
    port = free_port()
    command = configure(upstream, folder, port)
    process = await start(command, folder / "output.log")
    try:
        await wait_listening(port, process)
        yield f"http://{HOST}:{port}"
    finally:
        if process.returncode is None:
            process.terminate()  # nginx: SIGTERM is a fast shutdown
        await process.wait()


async def nginx_in_front(folder: Path, table: Table) -> None:
    ledger = table.ledger("nginx in front: bodies over the limit", tolerated={"413"})
    async with (
        fresh_postgres(folder / "postgres") as postgres,
        serving(postgres.url, folder, log=folder / "server.log") as upstream,
        nginx(upstream, folder / "nginx") as base,
        httpx.AsyncClient(base_url=base, timeout=TIMEOUT) as client,
    ):
        (user,) = await accounts(base, 1)
        headers = user.headers | {"Content-Type": "application/json"}
        for label, path, size in OVER_THE_LIMIT:
            body = b"[" + b" " * (size - 2) + b"]"
            answers = [
                await send(ledger, client.post(path, content=body, headers=headers))
                for _ in range(TIMES)
            ]
            judge(ledger, label, answers)
        # As an attacker would: many at once, while another request is measured.
        body = b"[" + b" " * (5_000_000 - 2) + b"]"
        flood = asyncio.gather(
            *(
                send(ledger, client.post("/api/v1/tasks", content=body, headers=headers))
                for _ in range(AT_ONCE)
            )
        )
        await asyncio.sleep(0.2)
        started = time.perf_counter()
        during = await send(ledger, client.get("/api/v1/tasks", headers=user.headers))
        status = during.status_code if during is not None else "no answer"
        elapsed = (time.perf_counter() - started) * 1000
        ledger.notes.append(
            f"a list during {AT_ONCE} bodies of 5 MB at once: {status} in {elapsed:.0f} ms"
        )
        judge(ledger, f"{AT_ONCE} x 5 MB at once to POST /tasks", await flood)
        listed = await send(ledger, client.get("/api/v1/tasks", headers=user.headers))
        if listed is None or listed.status_code != 200:
            ledger.problems.append("a normal request through nginx was not served")
        after = client.post("/api/v1/tasks", json={"title": "after"}, headers=user.headers)
        created = await send(ledger, after)
        if created is None or created.status_code != 201:
            ledger.problems.append("a create through nginx after the refusals failed")
    broken = broken_connections(folder / "nginx" / "error.log")
    ledger.notes.append(
        f"nginx's error.log: {broken} line(s) of broken pipe, reset, premature close"
    )
    if broken:
        ledger.problems.append("nginx saw the app close a connection while sending it a body")
