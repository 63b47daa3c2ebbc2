"""Task: T-116
Spec: specs/features/plugins.md §Migrations

A plugin that declares tables but ships no migrations is named at start-up (`serve` and
`migrate` stop with one line, status 2), by readiness (503) and by `todo-api plugins`. (The
scaffold's test removes a real installed plugin's migrations and runs the commands for real.)
"""

from collections.abc import Sequence

import pytest
from click.testing import CliRunner
from sqlmodel import Field, SQLModel

from app.cli.commands import cli
from app.core import Context, hookimpl
from app.core.plugins.loading import load
from app.core.settings import Settings

MESSAGE = "plugin 'gadgets' declares tables (gadgets) but ships no migrations"


class Gadget(SQLModel, table=True):
    __tablename__ = "gadgets"
    id: str = Field(primary_key=True)


class Gadgets:
    @hookimpl
    def models(self) -> Sequence[type[SQLModel]]:
        return [Gadget]


@pytest.fixture
def with_gadgets(monkeypatch: pytest.MonkeyPatch, tmp_path):
    (tmp_path / "plugins.toml").write_text('[plugins]\nenabled = ["health", "auth"]\n')
    monkeypatch.setenv("PLUGINS_FILE", str(tmp_path / "plugins.toml"))
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@127.0.0.1:1/never-reached")
    monkeypatch.setenv("JWT_SECRET_KEY", "a-test-secret-that-is-long-enough-for-hs256")

    def loaded(settings: Settings) -> Context:
        return load(settings, extra={"gadgets": Gadgets()})

    monkeypatch.setattr("app.cli.commands.load", loaded)


@pytest.mark.parametrize("command", [["serve"], ["serve", "--no-migrate"], ["migrate"]])
def test_start_up_stops_in_one_line(with_gadgets, command):
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {MESSAGE}"), result.output


def test_plugins_flags_it(with_gadgets):
    result = CliRunner().invoke(cli, ["plugins"])
    assert result.exit_code == 0, result.output
    assert f"warning: {MESSAGE}" in result.output


async def test_readiness_names_it(make_client):
    client = await make_client(extra={"gadgets": Gadgets()})
    response = await client.get("/api/v1/health/ready")
    assert response.status_code == 503
    assert response.json()["detail"].startswith(MESSAGE)
