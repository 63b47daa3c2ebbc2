"""Task: T-007, T-300
Spec: specs/features/plugins.md §Database

`DATABASE_URL` as operators paste it, translated for asyncpg.
"""

import ssl
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import URL, make_url
from sqlalchemy.exc import ArgumentError

from app.core.errors import ConfigError
from app.core.settings import PoolMode, Settings, StatementCache

# libpq parameters that asyncpg either does not know or that we translate ourselves.
_DROPPED = ("sslmode", "channel_binding", "sslrootcert", "sslcert", "sslkey", "sslcrl")
_VERIFYING = {"require", "verify-ca", "verify-full"}


@dataclass(frozen=True)
class EngineOptions:
    url: URL
    # asyncpg `connect()` arguments besides the address: `ssl`, `server_settings`.
    connect_args: dict[str, Any] = field(default_factory=dict)
    transaction_pooling: bool = False
    pool_mode: PoolMode = PoolMode.auto

    def statement_cache(self, setting: StatementCache) -> bool:
        """Whether asyncpg may keep named prepared statements (`auto`: not behind a PgBouncer
        named with `DATABASE_POOL_MODE=transaction`, which may not track them; §Database)."""
        if setting is not StatementCache.auto:
            return setting is StatementCache.on
        return self.pool_mode is not PoolMode.transaction

    def connect_kwargs(self, setting: StatementCache = StatementCache.auto) -> dict[str, Any]:
        """Keyword arguments for `asyncpg.connect` / `asyncpg.create_pool`."""
        address = self.url.translate_connect_args(
            username="user", password="password", database="database", host="host", port="port"
        )
        # The embedded server (and libpq URLs in general) name a Unix socket folder as `?host=`.
        socket_host = self.url.query.get("host")
        if isinstance(socket_host, str):
            address["host"] = socket_host
        cached = self.statement_cache(setting)
        return address | self.connect_args | {"statement_cache_size": 1024 if cached else 0}


def engine_options(raw_url: str, pool_mode: PoolMode = PoolMode.auto) -> EngineOptions:
    """Translate any PostgreSQL URL an operator may paste into what asyncpg accepts."""
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
    if not pooled:
        # Bound runaway queries; transaction-mode PgBouncer refuses this startup parameter.
        connect_args["server_settings"] = {"statement_timeout": "30000"}
    return EngineOptions(
        url=url, connect_args=connect_args, transaction_pooling=pooled, pool_mode=pool_mode
    )


def database_url(settings: Settings) -> str:
    """`DATABASE_URL` (`todo-api` sets it to its embedded server's when it is unset)."""
    if settings.database_url is None:
        raise ConfigError(
            "DATABASE_URL is not set: set it, or start with `todo-api serve` "
            "(an embedded PostgreSQL for development)"
        )
    return settings.database_url.get_secret_value()


def listen_options(settings: Settings, url: str | None = None) -> EngineOptions | None:
    """Where a `LISTEN` connection can go: `DATABASE_DIRECT_URL`, else `url` (the database's
    URL, by default `database_url(settings)`) unless it is a transaction pooler, where LISTEN
    silently hears nothing; None means there is no such place, and listeners poll instead."""
    if settings.database_direct_url is not None:
        return engine_options(settings.database_direct_url.get_secret_value(), PoolMode.session)
    options = engine_options(url or database_url(settings), settings.database_pool_mode)
    return None if options.transaction_pooling else options
