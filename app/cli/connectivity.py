"""Task: T-062, T-278
Spec: specs/features/plugins.md §Start-up errors; §Migrations

Is the database there, and does it let us in? One raw asyncpg connection, opened with the very
options the engine uses (`engine_options`: host or Unix socket, TLS, pooler settings), so the
answer is the one the app would get.

Platforms often start the database alongside the app, so a server that does not answer (yet) is
tried again for up to `WAIT_SECONDS`; a server that answers and refuses us is reported at once.
Either way the caller gets one `ConfigError` line naming the cause, never the password.

`create_engine`: the SQLAlchemy engine the upgrade (`app.cli.upgrade`) is handed, never the request path's.
"""

import asyncio
import socket
import ssl
import time
import uuid
from typing import Any

import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from app.core.db.urls import engine_options
from app.core.errors import ConfigError
from app.core.settings import PoolMode, Settings

WAIT_SECONDS = 5.0
RETRY_SECONDS = 0.5

# No answer (yet): the server may still be starting, worth another try.
_NOT_YET = (
    ConnectionRefusedError,
    FileNotFoundError,  # a Unix socket not created yet
    TimeoutError,
    socket.gaierror,  # a container's host name not registered yet
    asyncpg.CannotConnectNowError,  # "the database system is starting up"
)
# Options SQLAlchemy's asyncpg dialect consumes itself; asyncpg.connect does not know them.
_DIALECT_ONLY = ("prepared_statement_cache_size", "prepared_statement_name_func")


async def check_database(
    raw_url: str, pool_mode: PoolMode = PoolMode.auto, wait: float = WAIT_SECONDS
) -> None:
    """Connect once to the server at `raw_url`, trying for up to `wait` seconds while it does
    not answer; raise `ConfigError` saying why when it cannot be reached or refuses us."""
    options = engine_options(raw_url, pool_mode)
    # SQLAlchemy's own translation of the URL (the `host=` query parameter of a Unix socket,
    # several hosts), then the engine's connect_args: exactly what the pool will send.
    _, arguments = asyncpg_dialect().create_connect_args(options.url)  # type: ignore[no-untyped-call]
    arguments |= {k: v for k, v in options.connect_args.items() if k not in _DIALECT_ONLY}
    where = _where(arguments)
    deadline = time.monotonic() + wait
    while True:
        remaining = deadline - time.monotonic()
        try:
            connection = await asyncpg.connect(**arguments, timeout=max(remaining, RETRY_SECONDS))
        except _NOT_YET as exc:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ConfigError(_explain(exc, where, wait)) from None
            await asyncio.sleep(min(RETRY_SECONDS, remaining))
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise ConfigError(_explain(exc, where, wait)) from None
        else:
            await connection.close()
            return


def _where(arguments: dict[str, Any]) -> str:
    """`host:port`, or the socket file, as the operator would look for it."""
    hosts, ports = arguments.get("host") or "localhost", arguments.get("port") or 5432
    if not isinstance(hosts, list):
        hosts, ports = [hosts], [ports]
    elif not isinstance(ports, list):
        ports = [ports] * len(hosts)
    return ", ".join(
        f"{host}/.s.PGSQL.{port}" if str(host).startswith("/") else f"{host}:{port}"
        for host, port in zip(hosts, ports, strict=True)
    )


def _explain(exc: BaseException, where: str, wait: float) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (
            f"TLS certificate verification failed for the database at {where} "
            f"({exc.verify_message}): sslmode=require verifies the certificate here; add "
            "sslrootcert=/path/ca.pem to DATABASE_URL to trust its CA, or use sslmode=prefer "
            "for no verification"
        )
    if isinstance(exc, asyncpg.InvalidPasswordError):
        return f"the database at {where} refused us: {exc}; check the user and password in DATABASE_URL"
    if isinstance(exc, asyncpg.InvalidAuthorizationSpecificationError):
        return (
            f"the database at {where} refused us: {exc}; its pg_hba.conf admits no such connection"
        )
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        return f"the database at {where} refused us: {exc}; create it or fix DATABASE_URL"
    if isinstance(exc, asyncpg.PostgresError | asyncpg.InterfaceError):
        return f"the database at {where} refused us: {exc}"
    reasons: dict[type[BaseException], str] = {
        ConnectionRefusedError: "connection refused",
        FileNotFoundError: "no server socket there",
        TimeoutError: f"no answer within {wait:g} s",
        socket.gaierror: "unknown host name",
    }
    reason = reasons.get(type(exc))
    if reason is None:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return f"cannot reach the database at {where} ({reason})"


def create_engine(settings: Settings, url: str) -> AsyncEngine:
    """A SQLAlchemy engine for Alembic: migrations only, never the request path."""
    options = engine_options(url, settings.database_pool_mode)
    connect_args = dict(options.connect_args)
    if options.transaction_pooling:
        connect_args |= {
            "statement_cache_size": 0,
            "prepared_statement_cache_size": 0,
            # PgBouncer may hand the next statement to another server connection, where a
            # reused name would clash: every prepared statement gets a fresh name.
            "prepared_statement_name_func": lambda: f"__asyncpg_{uuid.uuid4()}__",
        }
    # One connection at a time, closed after use: migrations run once per start.
    return create_async_engine(
        options.url, connect_args=connect_args, poolclass=NullPool, hide_parameters=True
    )
