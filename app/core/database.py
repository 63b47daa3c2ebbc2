"""Task: T-007
Spec: specs/features/plugins.md §Database

The async engine, built from `DATABASE_URL` as operators paste it.

Neon prints URLs like `postgresql://u:p@ep-x-pooler.region.aws.neon.tech/db?sslmode=require&
channel_binding=require`. asyncpg through SQLAlchemy accepts neither parameter, so they are
translated: `sslmode` becomes an `ssl` context (a *verifying* one for `require`/`verify-*`,
because asyncpg's own `ssl="require"` does not check the certificate) and `channel_binding`
is dropped (asyncpg negotiates SCRAM on its own). A `-pooler` host is PgBouncer in transaction
mode, where prepared statements must not be cached or reused by name and startup parameters
such as `statement_timeout` are refused.
"""

import ssl
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.core.errors import ConfigError
from app.core.settings import PoolMode, Settings

# libpq parameters that asyncpg either does not know or that we translate ourselves.
_DROPPED = ("sslmode", "channel_binding", "sslrootcert", "sslcert", "sslkey", "sslcrl")
_VERIFYING = {"require", "verify-ca", "verify-full"}


@dataclass(frozen=True)
class EngineOptions:
    url: URL
    connect_args: dict[str, Any] = field(default_factory=dict)
    transaction_pooling: bool = False


def engine_options(raw_url: str, pool_mode: PoolMode = PoolMode.auto) -> EngineOptions:
    """Translate any PostgreSQL URL an operator may paste into what SQLAlchemy+asyncpg accepts."""
    try:
        url = make_url(raw_url.strip())
    except ArgumentError:
        raise ConfigError(
            "DATABASE_URL is not a valid URL (expected postgresql://user:pass@host/db)"
        ) from None
    if url.drivername not in {"postgres", "postgresql", "postgresql+asyncpg"}:
        raise ConfigError(
            f"DATABASE_URL scheme {url.drivername!r} is not supported; use postgresql://"
        )
    query = dict(url.query)
    sslmode = query.get("sslmode")
    root_cert = query.get("sslrootcert")
    url = url.set(drivername="postgresql+asyncpg").difference_update_query(_DROPPED)

    connect_args: dict[str, Any] = {}
    if isinstance(sslmode, str) and sslmode in _VERIFYING:
        context = ssl.create_default_context(
            cafile=root_cert if isinstance(root_cert, str) else None
        )
        # verify-ca checks the chain but not the name; require and verify-full check both,
        # which is stricter than libpq's `require` and what a hosted database deserves.
        context.check_hostname = sslmode != "verify-ca"
        connect_args["ssl"] = context
    elif sslmode in {"prefer", "allow"}:
        connect_args["ssl"] = sslmode
    elif sslmode == "disable":
        connect_args["ssl"] = False

    pooled = pool_mode is PoolMode.transaction or (
        pool_mode is PoolMode.auto and "-pooler" in (url.host or "")
    )
    if pooled:
        connect_args |= {
            "statement_cache_size": 0,
            "prepared_statement_cache_size": 0,
            # PgBouncer may hand the next statement to another server connection, where a
            # reused name would clash: every prepared statement gets a fresh name.
            "prepared_statement_name_func": lambda: f"__asyncpg_{uuid.uuid4()}__",
        }
    else:
        # Bound runaway queries; transaction-mode PgBouncer refuses this startup parameter.
        connect_args["server_settings"] = {"statement_timeout": "30000"}
    return EngineOptions(url=url, connect_args=connect_args, transaction_pooling=pooled)


def create_engine(settings: Settings, url: str) -> AsyncEngine:
    options = engine_options(url, settings.database_pool_mode)
    return create_async_engine(
        options.url,
        connect_args=options.connect_args,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_size,
        pool_pre_ping=True,  # a connection Neon closed while idle is replaced, not failed on
        pool_recycle=300,
        hide_parameters=True,  # errors and logs show the SQL, never the values (passwords, tokens)
    )
