"""Task: T-074
Spec: specs/api/rest-endpoints.md §Errors
"""

import logging

import pytest

from app.cli.commands import configure_logging
from app.core.app import API_PREFIX, create_app
from app.core.plugins.loading import load
from app.core.plugins.plugins_file import PluginsFile
from app.core.redaction import redact
from app.testing import settings_for
from tests.core.plugins_for_tests import HASH, PASSWORD, TOKEN, Probe, TokenAuth


@pytest.fixture
async def probe(make_client):
    return await make_client(enabled=("health",), extra={"testauth": TokenAuth(), "probe": Probe()})


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("Authorization: Bearer abc.def", "Authorization: [redacted] [redacted]"),
        ("(b'authorization', b'Basic dXNlcjpwYXNz')", "(b'authorization', b[redacted])"),
        (f"got {TOKEN} here", "got [redacted] here"),
        (f"stored {HASH}, then", "stored [redacted] then"),
        (
            '{"password": "a \\" b", "email": "a@example.com"}',
            '{"password": [redacted], "email": "a@example.com"}',
        ),
        ("refresh_token=abc&limit=5", "refresh_token=[redacted]&limit=5"),
        ("jwt_secret_key: xyz", "jwt_secret_key: [redacted]"),
        (
            "postgresql://neondb_owner:npg_s3cr3t@ep-x.neon.tech/db",
            "postgresql://neondb_owner:[redacted]@ep-x.neon.tech/db",
        ),
        (
            "invalid input for query argument $1: 'x@y' (invalid UUID 'x@y': length 3)",
            "invalid input for query argument $1: [redacted]",
        ),
        (  # an invitation link, in uvicorn's access log
            '"POST /api/v1/invitations/Zm9vYmFyYmF6cXV4cXV1eHh4eHh4eHh4eHh4eHh4eHh4eHg/accept"',
            '"POST /api/v1/invitations/[redacted]/accept"',
        ),
        (  # a calendar feed: the owner's and the secret's parts, around the feed's id
            "GET /api/v1/calendar/MmQ0ZjM5ZTAtYjdlMi00MzkzLTk0ZjktOWY5ZjQ0ZTk0YjY1"
            ".9d0f3a4e-0a51-4b5e-9c37-2c8a1a5b6f70.Xq3v9_Zx-2LmNb8rT4yW6uE1oP0aS7dF5gH3jK2lQ9c.ics",
            "GET /api/v1/calendar/[redacted].9d0f3a4e-0a51-4b5e-9c37-2c8a1a5b6f70.[redacted].ics",
        ),
        # What is no secret stays readable.
        ("Invalid token", "Invalid token"),
        (
            "PATCH /api/v1/tasks/9d0f3a4e-0a51-4b5e-9c37-2c8a1a5b6f70 HTTP/1.1",
            "PATCH /api/v1/tasks/9d0f3a4e-0a51-4b5e-9c37-2c8a1a5b6f70 HTTP/1.1",
        ),
        (
            "GET /api/v1/tasks?cursor=eyJ2IjoxfQ&limit=5",
            "GET /api/v1/tasks?cursor=eyJ2IjoxfQ&limit=5",
        ),
    ],
)
def test_redact(text, redacted):
    assert redact(text) == redacted
    assert redact(redacted) == redacted


async def test_an_unexpected_error_logs_its_trace_without_secrets(probe, caplog):
    with caplog.at_level(logging.ERROR):
        response = await probe.get(
            f"{API_PREFIX}/probe/crash", headers={"Authorization": f"Bearer {TOKEN}"}
        )
    assert response.status_code == 500
    assert "Traceback" in caplog.text and "ValueError: refused Authorization" in caplog.text
    for secret in (PASSWORD, HASH, TOKEN, HASH.split("$")[-1], TOKEN.split(".")[-1]):
        assert secret not in caplog.text


async def test_a_failed_query_logs_neither_its_arguments_nor_asyncpg_echoes(probe, caplog):
    with caplog.at_level(logging.ERROR):
        response = await probe.get(f"{API_PREFIX}/probe/bad-query")
    assert response.status_code == 500
    assert "invalid input for query argument $1: [redacted]" in caplog.text
    assert PASSWORD not in caplog.text


@pytest.fixture
def plain_logging():
    """Logging as a new process has it, before anything installed the redaction."""
    factory = logging.getLogRecordFactory()
    logging.setLogRecordFactory(logging.LogRecord)
    yield
    logging.setLogRecordFactory(factory)


@pytest.mark.parametrize("start", ["create_app", "cli"])
def test_start_up_redacts_every_logger(plain_logging, tmp_path, caplog, start):
    settings = settings_for("postgresql://u:p@127.0.0.1:1/x", tmp_path)
    if start == "cli":
        configure_logging(settings)
    else:
        create_app(settings, load(settings, PluginsFile(enabled=("health",))))
    with caplog.at_level(logging.INFO):
        logging.getLogger("some.library").info("connecting with password=%s", PASSWORD)
        logging.getLogger("uvicorn.error").warning("header %r", (b"authorization", b"Bearer x"))
    assert "password=[redacted]" in caplog.text
    assert PASSWORD not in caplog.text and "Bearer x" not in caplog.text
