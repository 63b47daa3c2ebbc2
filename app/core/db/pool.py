"""Task: T-090, T-279
Spec: specs/features/plugins.md §Database

`Database`: the process's asyncpg pool, and the one way requests talk to PostgreSQL.
"""

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, TypeVar

import asyncpg
from sqlalchemy.sql import ClauseElement

from app.core.db.ownership import OWNER, UNSCOPED, OwnershipError, scoped
from app.core.db.urls import EngineOptions
from app.core.settings import StatementCache

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

logger = logging.getLogger("todo_api")
T = TypeVar("T")
# A connection of the pool, as statements see it (asyncpg hands out a proxy).
Connection: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"
# A row as a statement answers it, or as a plugin builds one (the values an INSERT sends).
Row: TypeAlias = asyncpg.Record | Mapping[str, Any]

# Failures that mean "no usable connection", as opposed to an error in the statement itself.
UNREACHABLE: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, no such socket, timed out
    asyncpg.PostgresConnectionError,  # SQLSTATE 08: closed in the middle of an operation
    asyncpg.CannotConnectNowError,  # 57P03: starting up or shutting down
    asyncpg.AdminShutdownError,  # 57P01: pg_terminate_backend, a fast shutdown
    asyncpg.CrashShutdownError,  # 57P02
    asyncpg.TooManyConnectionsError,  # 53300
    # The server's FATAL for a terminated backend can reach an idle connection before its
    # socket closes; the next statement then fails in the client, before anything is sent.
    asyncpg.InternalClientError,
)
CONNECT_TIMEOUT_SECONDS = 5


class DatabaseUnavailable(Exception):
    """No connection could be had, or it dropped twice: answered 503 with Retry-After."""

    retry_after_seconds = 1


async def _setup_connection(connection: "asyncpg.Connection[asyncpg.Record]") -> None:
    # JSON in and out as Python values, as SQLAlchemy's JSON types would give them.
    for name in ("json", "jsonb"):
        await connection.set_type_codec(
            name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


async def _reset_connection(connection: "asyncpg.Connection[asyncpg.Record]") -> None:
    # asyncpg's default reset sends `RESET ALL; UNLISTEN *; …` on every release: a round trip
    # per request, for session state this app never sets. Only an unfinished transaction (a
    # request cancelled mid-way) must not reach the next user of the connection.
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")


class Runner(Protocol):
    """Runs `work` on a connection (retrying once when `retry` and the connection drops)."""

    def __call__(
        self, work: Callable[[Connection], Awaitable[T]], retry: bool, /
    ) -> Awaitable[T]: ...


class Executor:
    """Runs SQLAlchemy statements, with bind parameters by name, and returns asyncpg records;
    `owned(user_id)` scopes every statement to what that user may reach, at `role` or above
    where rows are shared (`app.core.db.ownership`)."""

    def __init__(
        self,
        run: Runner,
        owner: str | None = None,
        begin: "Callable[[], AbstractAsyncContextManager[Transaction]] | None" = None,
        role: str | None = None,
    ) -> None:
        self._run = run
        self.owner = owner
        self.role = role
        self._compiled = scoped(role) if owner is not None else UNSCOPED
        self._begin = begin  # opens a transaction on the pool; None inside one

    def owned(self, owner: str, role: str | None = None) -> "Executor":
        return Executor(self._run, owner, self._begin, role)

    @asynccontextmanager
    async def transaction(self) -> "AsyncIterator[Executor]":
        """The block's statements in one transaction, scoped as this executor is (inside one
        already: this executor)."""
        if self._begin is None:
            yield self
            return
        async with self._begin() as transaction:
            yield transaction if self.owner is None else transaction.owned(self.owner, self.role)

    def _arguments(self, statement: ClauseElement, params: dict[str, Any]) -> tuple[str, list[Any]]:
        compiled = self._compiled.get(statement)
        if self.owner is not None:
            params[OWNER] = self.owner
        return compiled.sql, compiled.arguments(params)

    async def fetch(
        self, statement: ClauseElement, *, retry: bool = True, **params: Any
    ) -> list[asyncpg.Record]:
        sql, arguments = self._arguments(statement, params)
        return await self._run(lambda c: c.fetch(sql, *arguments), retry)

    async def fetchrow(
        self, statement: ClauseElement, *, retry: bool = True, **params: Any
    ) -> asyncpg.Record | None:
        sql, arguments = self._arguments(statement, params)
        return await self._run(lambda c: c.fetchrow(sql, *arguments), retry)

    async def fetchval(self, statement: ClauseElement, *, retry: bool = True, **params: Any) -> Any:
        sql, arguments = self._arguments(statement, params)
        return await self._run(lambda c: c.fetchval(sql, *arguments), retry)

    async def execute(self, statement: ClauseElement, *, retry: bool = True, **params: Any) -> str:
        """Run a statement for its effect; returns the command tag (`UPDATE 1`)."""
        sql, arguments = self._arguments(statement, params)
        return await self._run(lambda c: c.execute(sql, *arguments), retry)

    async def on_connection(self, work: Callable[[Connection], Awaitable[T]]) -> T:
        """`work(connection)` on the raw asyncpg connection (a transaction's, or a pooled one,
        not retried), for a library that speaks asyncpg; refused when owned."""
        if self.owner is not None:
            raise OwnershipError("a raw connection cannot be scoped to its owner; use the DB")
        return await self._run(work, False)


def _gone(connection: Connection) -> bool:
    # asyncpg refuses every call on a connection it saw close, `is_closed()` included.
    try:
        return connection.is_closed()
    except asyncpg.InterfaceError:
        return True


class Transaction(Executor):
    """Statements on one connection inside `BEGIN … COMMIT` (see `Database.transaction`)."""

    def __init__(self, connection: Connection) -> None:
        super().__init__(self._on_connection)
        self.connection = connection

    async def _on_connection(self, work: Callable[[Connection], Awaitable[T]], retry: bool) -> T:
        # Never retried statement by statement: the transaction as a whole is the unit.
        try:
            return await work(self.connection)
        except UNREACHABLE as exc:
            raise DatabaseUnavailable from exc
        except asyncpg.InterfaceError as exc:
            if _gone(self.connection):
                raise DatabaseUnavailable from exc
            raise


class Database(Executor):
    """The pool. Plugins get it as `app.core.DB` (or scoped to the caller, `OwnedDB`)."""

    def __init__(self, pool: "asyncpg.Pool[asyncpg.Record]") -> None:
        super().__init__(self._on_pool)
        self.pool = pool

    def owned(self, owner: str, role: str | None = None) -> Executor:
        # Late-bound, so a test replacing `Database.transaction` is seen by owned executors too.
        return Executor(self._run, owner, lambda: self.transaction(), role)

    @classmethod
    async def open(
        cls, options: EngineOptions, size: int, statement_cache: StatementCache
    ) -> "Database":
        pool = await asyncpg.create_pool(
            **options.connect_kwargs(statement_cache),
            # Connections open on demand: the app starts (and answers liveness) while the
            # database is away; `todo-api serve` checks it is reachable before that.
            min_size=0,
            max_size=size,
            max_inactive_connection_lifetime=300,
            timeout=CONNECT_TIMEOUT_SECONDS,
            init=_setup_connection,
            reset=_reset_connection,
        )
        return cls(pool)

    async def close(self) -> None:
        await self.pool.close()

    async def _on_pool(self, work: Callable[[Connection], Awaitable[T]], retry: bool) -> T:
        for attempt in (1, 2):
            try:
                async with self.pool.acquire() as connection:
                    try:
                        return await work(connection)
                    except UNREACHABLE:
                        # Never hand a broken connection out again (asyncpg has already taken
                        # back one it saw close).
                        with suppress(asyncpg.InterfaceError):
                            connection.terminate()
                        raise
            except UNREACHABLE as exc:
                # Whatever dropped this connection (a restart, a failover, a pooler recycle)
                # most likely dropped its idle siblings too: the retry, and every request
                # after it, gets a fresh connection instead of finding the next dead one.
                await self.pool.expire_connections()
                if attempt == 2 or not retry:
                    raise DatabaseUnavailable from exc
                logger.info("database connection lost (%s); retrying once", type(exc).__name__)
        raise AssertionError("not reached")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """`BEGIN`, the statements run on the yielded `Transaction`, then `COMMIT` (or
        `ROLLBACK` on an exception). Not retried: the caller decides whether the unit may run
        again. `transaction.owned(user_id)` scopes statements inside it."""
        try:
            async with self.pool.acquire() as connection:
                try:
                    async with connection.transaction():
                        yield Transaction(connection)
                except asyncpg.InterfaceError as exc:
                    # A backend terminated mid-transaction: asyncpg will not leave a transaction
                    # whose connection closed ("cannot call Transaction.__aexit__()"), over the
                    # outage a statement already reported. Nothing was committed.
                    if _gone(connection):
                        raise DatabaseUnavailable from exc
                    raise
        except UNREACHABLE as exc:
            raise DatabaseUnavailable from exc
