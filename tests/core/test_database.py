"""Task: T-007
Spec: specs/features/plugins.md §Database
"""

import ssl

import pytest
from sqlalchemy import text

from app.cli.connectivity import create_engine
from app.core.db.pool import Database
from app.core.db.urls import engine_options
from app.core.errors import ConfigError
from app.core.settings import PoolMode, Settings, StatementCache

NEON_POOLED = (
    "postgresql://alex:AbC123dEf@ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech/dbname"
    "?sslmode=require&channel_binding=require"
)
NEON_DIRECT = NEON_POOLED.replace("-pooler", "")


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "postgresql+asyncpg"])
def test_schemes_become_asyncpg(scheme):
    assert engine_options(f"{scheme}://u:p@db.example/app").url.drivername == "postgresql+asyncpg"


def test_neon_url_is_translated_to_a_verifying_tls_context():
    options = engine_options(NEON_POOLED)
    assert dict(options.url.query) == {}
    context = options.connect_args["ssl"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert options.url.host == "ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech"
    assert options.url.password == "AbC123dEf"


def test_pooler_host_means_transaction_pooling():
    options = engine_options(NEON_POOLED)
    assert options.transaction_pooling
    assert "server_settings" not in options.connect_args  # PgBouncer refuses startup parameters
    # Neon's pooler (PgBouncer 1.22) tracks protocol-level prepared statements.
    assert options.connect_kwargs()["statement_cache_size"] > 0


def test_an_explicit_transaction_pooler_gets_no_named_statements():
    options = engine_options("postgresql://u:p@pgbouncer/app", PoolMode.transaction)
    assert options.connect_kwargs()["statement_cache_size"] == 0
    assert options.connect_kwargs(StatementCache.on)["statement_cache_size"] > 0
    assert (
        engine_options(NEON_POOLED).connect_kwargs(StatementCache.off)["statement_cache_size"] == 0
    )


def test_direct_host_keeps_caches_and_a_statement_timeout():
    options = engine_options(NEON_DIRECT)
    assert not options.transaction_pooling
    assert options.connect_kwargs()["statement_cache_size"] > 0
    assert options.connect_args["server_settings"] == {"statement_timeout": "30000"}


def test_connect_kwargs_carry_the_address():
    kwargs = engine_options(NEON_POOLED).connect_kwargs()
    assert kwargs["host"] == "ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech"
    assert (kwargs["user"], kwargs["password"], kwargs["database"]) == (
        "alex",
        "AbC123dEf",
        "dbname",
    )
    socket = engine_options("postgresql://postgres@/db?host=/tmp/pg").connect_kwargs()
    assert socket["host"] == "/tmp/pg"


def test_pool_mode_can_be_forced():
    assert engine_options(
        "postgresql://u:p@pgbouncer/app", PoolMode.transaction
    ).transaction_pooling
    assert not engine_options(NEON_POOLED, PoolMode.session).transaction_pooling


@pytest.mark.parametrize(("mode", "expected"), [("verify-ca", False), ("verify-full", True)])
def test_verify_modes(mode, expected):
    context = engine_options(f"postgresql://u:p@db/app?sslmode={mode}").connect_args["ssl"]
    assert context.check_hostname is expected and context.verify_mode == ssl.CERT_REQUIRED


def test_disable_turns_tls_off():
    assert engine_options("postgresql://u:p@db/app?sslmode=disable").connect_args["ssl"] is False


@pytest.mark.parametrize("url", ["mysql://u:p@db/app", "not a url at all", "sqlite:///x.db"])
def test_unusable_urls_are_config_errors(url):
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        engine_options(url)


async def test_transaction_pooling_settings_work_on_a_real_server(database_url):
    options = engine_options(database_url, PoolMode.transaction)
    database = await Database.open(options, 2, StatementCache.auto)
    try:
        for _ in range(3):  # the same statement again: no named statement to clash
            assert (
                await database.fetchval(text("SELECT count(*) FROM users WHERE id = :id"), id="x")
                == 0
            )
    finally:
        await database.close()


async def test_the_migration_engine_works_through_a_transaction_pooler(database_url):
    settings = Settings(_env_file=None, database_pool_mode=PoolMode.transaction)
    engine = create_engine(settings, database_url.replace("postgresql+asyncpg://", "postgres://"))
    try:
        for _ in range(3):  # the same statement again: no clash of prepared statement names
            async with engine.connect() as connection:
                value = await connection.scalar(
                    text("SELECT count(*) FROM users WHERE id = :id"), {"id": "x"}
                )
                assert value == 0
    finally:
        await engine.dispose()
