"""Task: T-082
Spec: specs/operations/battery.md §PgBouncer in transaction mode

Scenario 1: the app behind PgBouncer in transaction mode, as on Neon's `-pooler` hosts.

Debian 12's PgBouncer (1.18) hands each transaction to whichever server connection is free and
does not track protocol-level prepared statements, so a statement prepared in one transaction
and used in another, or a name reused across connections, fails. The app is told
`DATABASE_POOL_MODE=transaction`; mixed reads and writes must then all succeed.
"""

import asyncio
import shutil
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from battery.load import Load, accounts, mixed
from battery.postgres import Postgres, fresh_postgres
from battery.report import Table
from harness.server import HOST, free_port, serving, start

CONFIG = """\
[databases]
postgres = host={socket_dir} port={socket_port} dbname=postgres user=postgres

[pgbouncer]
listen_addr = {host}
listen_port = {port}
; TCP on loopback only: no Unix socket of PgBouncer's own
unix_socket_dir =
auth_type = trust
auth_file = {folder}/users.txt
pool_mode = transaction
; Fewer server connections than the app's pool (10, plus 10 overflow): clients queue in
; PgBouncer and transactions hop between server connections, as in production.
default_pool_size = 4
max_client_conn = 100
"""


def binary() -> str:
    # Debian installs it in /usr/sbin, which is not on every user's PATH.
    found = shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin")
    if found is None:
        raise RuntimeError("pgbouncer is not installed (`make battery` installs Debian's)")
    return found


async def wait_accepting(url: str, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            connection = await asyncpg.connect(url, statement_cache_size=0)
        except (OSError, asyncpg.PostgresError):
            if time.monotonic() >= deadline:
                raise
            await asyncio.sleep(0.1)
        else:
            await connection.close()
            return


def configure(postgres: Postgres, folder: Path, port: int) -> list[str]:
    """Write PgBouncer's configuration into `folder`; return the command that runs it."""
    folder.mkdir()
    socket_dir, socket_port = postgres.socket
    config = folder / "pgbouncer.ini"
    config.write_text(
        CONFIG.format(
            socket_dir=socket_dir,
            socket_port=socket_port,
            host=HOST,
            port=port,
            folder=folder,
        )
    )
    (folder / "users.txt").write_text('"postgres" ""\n')
    # PgBouncer refuses to run as root; as root, run it as the user PostgreSQL runs as.
    if user := postgres.system_user:
        for path in (folder, config, folder / "users.txt"):
            shutil.chown(path, user)
        return [binary(), "-u", user, str(config)]
    return [binary(), str(config)]


@asynccontextmanager
async def pgbouncer(postgres: Postgres, folder: Path) -> AsyncIterator[str]:
    """PgBouncer in transaction mode in front of `postgres`; yields the URL to connect to."""
    port = free_port()
    command = configure(postgres, folder, port)
    process = await start(command, folder / "pgbouncer.log")
    url = f"postgresql://postgres@{HOST}:{port}/postgres"
    try:
        await wait_accepting(url)
        yield url
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()


async def through_pgbouncer(folder: Path, table: Table) -> None:
    ledger = table.ledger("PgBouncer, transaction mode")
    async with (
        fresh_postgres(folder / "postgres") as postgres,
        pgbouncer(postgres, folder / "pgbouncer") as url,
        serving(
            url,
            folder,
            log=folder / "server.log",
            env={"DATABASE_POOL_MODE": "transaction"},
        ) as base,
    ):
        users = await accounts(base, 2)
        await mixed(base, users, ledger, Load(seconds=10))
        await ledger.reconcile(postgres.dsn)
