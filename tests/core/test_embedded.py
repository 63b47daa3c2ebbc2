"""Task: T-008
Spec: specs/features/plugins.md §Database
"""

import logging

import asyncpg
from sqlalchemy import make_url

from app.core.app import database_url
from app.core.settings import Settings


def dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(False)


async def test_embedded_server_keeps_its_data(tmp_path, caplog):
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")
    assert settings.embedded_database
    with caplog.at_level(logging.INFO, logger="todo_api"):
        url = database_url(settings)
    assert (tmp_path / "data" / "postgres" / "PG_VERSION").exists()
    lines = [r.getMessage() for r in caplog.records if r.name == "todo_api"]
    assert len(lines) == 1 and "embedded PostgreSQL" in lines[0]
    connection = await asyncpg.connect(dsn(url))
    await connection.execute("CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)")
    await connection.close()
    # Asked again (as a restarted app is), the same folder serves the same data.
    connection = await asyncpg.connect(dsn(database_url(settings)))
    assert await connection.fetchval("SELECT n FROM kept") == 42
    await connection.close()


def test_a_database_url_wins(tmp_path):
    settings = Settings(_env_file=None, data_dir=tmp_path, database_url="postgresql://u:p@db/app")
    assert database_url(settings) == "postgresql://u:p@db/app"
    assert not (tmp_path / "postgres").exists()
