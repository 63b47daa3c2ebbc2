"""Task: T-090
Spec: specs/features/plugins.md §Database

The pool: a database that is away is `DatabaseUnavailable` (503), and a connection the server
closed while it sat idle is replaced on acquire, without a retry.
"""

import asyncio

import asyncpg
import pytest
from sqlalchemy import text

from app.core import Database, DatabaseUnavailable
from app.core.db.urls import engine_options
from app.core.settings import StatementCache
from app.testing.database import libpq_url

TERMINATE = """
SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
"""


async def test_an_unreachable_database_is_unavailable_not_an_error():
    database = await Database.open(
        engine_options("postgresql://nobody@127.0.0.1:1/none"), 2, StatementCache.auto
    )
    try:
        with pytest.raises(DatabaseUnavailable):
            await database.fetchval(text("SELECT 1"))
    finally:
        await database.close()


async def test_a_connection_closed_while_idle_is_replaced_without_a_retry(database_url):
    database = await Database.open(engine_options(database_url), 2, StatementCache.auto)
    killer = await asyncpg.connect(libpq_url(database_url))
    try:
        await database.fetchval(text("SELECT 1"))  # one pooled connection, now idle
        assert await killer.fetchval(TERMINATE) == 1
        await asyncio.sleep(0.1)
        assert await database.fetchval(text("SELECT 1"), retry=False) == 1
    finally:
        await killer.close()
        await database.close()


async def test_a_transaction_whose_backend_is_terminated_is_unavailable_not_an_error(
    database_url,
):
    # Leaving it must not raise asyncpg's "cannot call Transaction.__aexit__()" (a 500 in the
    # battery's pg_terminate_backend rounds): the database went away, and nothing committed.
    database = await Database.open(engine_options(database_url), 2, StatementCache.auto)
    killer = await asyncpg.connect(libpq_url(database_url))
    try:
        with pytest.raises(DatabaseUnavailable):
            async with database.transaction() as transaction:
                await transaction.fetchval(text("SELECT 1"))
                assert await killer.fetchval(TERMINATE) == 1
                await asyncio.sleep(0.1)
                await transaction.fetchval(text("SELECT 1"))
        assert await database.fetchval(text("SELECT 1")) == 1
    finally:
        await killer.close()
        await database.close()
