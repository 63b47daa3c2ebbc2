"""Task: T-007
Spec: specs/features/plugins.md §Database
"""

import ssl

import pytest
from sqlalchemy import text

from app.core.database import create_engine, engine_options
from app.core.errors import ConfigError
from app.core.settings import PoolMode, Settings

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
    args = options.connect_args
    assert args["statement_cache_size"] == 0 and args["prepared_statement_cache_size"] == 0
    names = {args["prepared_statement_name_func"]() for _ in range(3)}
    assert len(names) == 3
    assert "server_settings" not in args  # PgBouncer refuses startup parameters


def test_direct_host_keeps_caches_and_a_statement_timeout():
    options = engine_options(NEON_DIRECT)
    assert not options.transaction_pooling
    assert "statement_cache_size" not in options.connect_args
    assert options.connect_args["server_settings"] == {"statement_timeout": "30000"}


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


async def test_transaction_pooling_settings_work_on_a_real_server(database_url, tmp_path):
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
