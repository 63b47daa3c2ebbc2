"""Task: T-023
Spec: specs/features/authentication.md §Secrets
"""

import logging
import stat

import pytest

from app.core.errors import ConfigError
from app.core.settings import Settings
from app.plugins.auth.secret import signing_secret
from app.plugins.auth.settings import AuthSettings


def settings(tmp_path, **values) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", **values)


def auth(**values) -> AuthSettings:
    return AuthSettings(_env_file=None, **values)


def test_missing_secret_with_a_database_url_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="JWT_SECRET_KEY is not set"):
        signing_secret(settings(tmp_path, database_url="postgresql://u:p@db/x"), auth())


def test_short_secret_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="use at least 32"):
        signing_secret(
            settings(tmp_path, database_url="postgresql://u:p@db/x"), auth(jwt_secret_key="short")
        )


def test_embedded_mode_creates_a_secret_once(tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="todo_api"):
        first = signing_secret(settings(tmp_path), auth())
    assert len(first) >= 32
    path = tmp_path / "data" / "jwt-secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "created a development JWT secret" in caplog.text
    assert first.decode() not in caplog.text
    assert signing_secret(settings(tmp_path), auth()) == first


async def test_start_up_stops_on_a_short_secret(make_client):
    with pytest.raises(ConfigError, match="JWT_SECRET_KEY"):
        await make_client(environment={"JWT_SECRET_KEY": "too-short"})
