"""Task: T-065, T-254, T-257, T-276
Spec: specs/features/plugins.md §Configuration, §Start-up errors

Every configuration mistake stops `todo-api` with one line on stderr, `error: …`, status 2 and
no traceback; an empty variable counts as unset.
"""

import json
import re
import shutil
from pathlib import Path

import pytest

from app.core.errors import ConfigError
from app.core.plugins.installed import BUILTINS
from app.core.plugins.loading import load
from app.core.plugins.plugins_file import PluginsFile
from app.core.settings import Settings
from app.plugins.auth.settings import AuthSettings
from app.plugins.webhooks.settings import WebhooksSettings
from app.testing import TEST_SECRET, settings_for
from tests.core.command_line import config_error, environment, todo_api

REPOSITORY = Path(__file__).resolve().parents[2]
WEBHOOKS = ["health", "auth", "changes", "jobs", "tasks", "webhooks"]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return environment(tmp_path)


def test_empty_values_mean_unset(monkeypatch):
    for name in ("DATABASE_URL", "JWT_SECRET_KEY", "DATABASE_POOL_SIZE", "LOG_LEVEL"):
        monkeypatch.setenv(name, "")
    settings = Settings(_env_file=None)
    assert settings.database_url is None and AuthSettings(_env_file=None).jwt_secret_key is None
    assert settings.database_pool_size == 10 and settings.log_level == "INFO"


def test_env_example_copied_to_env_starts(tmp_path):
    shutil.copy(REPOSITORY / ".env.example", tmp_path / ".env")
    result = todo_api("config", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "DATABASE_URL = unset: embedded PostgreSQL\n" in result.stdout
    assert "JWT_SECRET_KEY = unset\n" in result.stdout
    assert todo_api("plugins", cwd=tmp_path).returncode == 0


def test_log_level_is_case_insensitive(monkeypatch):
    monkeypatch.setenv("LOG_LEVEL", "debug")
    assert Settings(_env_file=None).log_level == "DEBUG"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DATABASE_POOL_SIZE", "0", "DATABASE_POOL_SIZE=0 is not valid: use a whole number"),
        (
            "DATABASE_POOL_MODE",
            "bogus",
            "DATABASE_POOL_MODE=bogus is not valid: use one of auto, session, transaction",
        ),
        (
            "LOG_LEVEL",
            "verbose",
            "LOG_LEVEL=verbose is not valid: use one of DEBUG, INFO, WARNING, ERROR, CRITICAL",
        ),
        ("JWT_ALGORITHM", "RS256", "JWT_ALGORITHM=RS256 is not valid: use one of HS256, HS384"),
        (
            "JWT_ACCESS_TOKEN_EXPIRE_MINUTES",
            "abc",
            "JWT_ACCESS_TOKEN_EXPIRE_MINUTES=abc is not valid: use a whole number of minutes",
        ),
        ("DATABASE_URL", "mysql://u:p@db/app", "DATABASE_URL scheme 'mysql' is not supported"),
        ("JWT_SECRET_KEY", "short", "JWT_SECRET_KEY is 5 bytes; use at least 32"),
        ("AUTH_LEEWAY_SECONDS", "-1", "AUTH_LEEWAY_SECONDS=-1 is not valid: input should be"),
    ],
)
def test_a_bad_setting_is_one_line(env, tmp_path, variable, value, message):
    result = todo_api("serve", cwd=tmp_path, **(env | {variable: value}))
    assert message in config_error(result)


@pytest.mark.parametrize("value", ["127.0.0.1:19090", "not a host!!", "https://receiver.internal"])
def test_a_bad_outbound_allowance_is_one_line(env, tmp_path, value):
    # The webhooks plugin's setting: checked at start when webhooks is enabled.
    (tmp_path / "plugins.toml").write_text(f"[plugins]\nenabled = {json.dumps(WEBHOOKS)}\n")
    result = todo_api("serve", cwd=tmp_path, **(env | {"OUTBOUND_ALLOW_HOSTS": value}))
    assert (
        f"OUTBOUND_ALLOW_HOSTS={value} is not valid: use host names, IP addresses or "
        "CIDR networks, comma-separated, without ports or schemes"
    ) in config_error(result)


def outbound_allowances(tmp_path: Path, value: str) -> list[str]:
    """`OUTBOUND_ALLOW_HOSTS=value` as the webhooks plugin reads it at start."""
    settings = settings_for("postgresql://unused/db", tmp_path, {"OUTBOUND_ALLOW_HOSTS": value})
    context = load(settings, PluginsFile(enabled=WEBHOOKS))
    return context.settings_for("webhooks", WebhooksSettings).outbound_allow_hosts


def test_outbound_allow_hosts_takes_names_addresses_and_networks(tmp_path):
    allowed = "127.0.0.1, ::1,10.1.0.0/16,receiver.internal,Receiver-2.example."
    assert outbound_allowances(tmp_path, allowed) == [
        "127.0.0.1",
        "::1",
        "10.1.0.0/16",
        "receiver.internal",
        "Receiver-2.example.",
    ]
    for wrong in ("[::1]:8080", "-receiver.internal", "a..b", "receiver.internal/path"):
        with pytest.raises(ConfigError, match=r"OUTBOUND_ALLOW_HOSTS=.* is not valid"):
            outbound_allowances(tmp_path, wrong)


def test_a_secret_is_never_echoed():
    with pytest.raises(ConfigError) as caught:
        Settings(_env_file=None, database_url=["hunter2"])
    assert str(caught.value) == "DATABASE_URL is not valid: input should be a valid string"


def test_a_plugin_secret_is_refused_in_plugins_toml_and_never_echoed(tmp_path):
    for key, variable in (
        ("jwt_secret_key", "JWT_SECRET_KEY"),
        ("better_auth_secret", "BETTER_AUTH_SECRET"),
    ):
        tables = {"auth": {key: "hunter2-hunter2-hunter2-hunter2-hunter2"}}
        with pytest.raises(ConfigError) as caught:
            load(settings_for("postgresql://unused/db", tmp_path), PluginsFile(tables=tables))
        assert str(caught.value) == (
            f"{tmp_path / 'plugins.toml'} [plugins.auth]: {key} is a secret: set {variable} in "
            "the environment (or .env) instead"
        )


def test_a_plugin_setting_comes_from_the_environment_and_the_table_wins(tmp_path):
    settings = settings_for(
        "postgresql://unused/db",
        tmp_path,
        {"JWT_ALGORITHM": "HS384", "AUTH_LEEWAY_SECONDS": "7", "AUTH_MAX_FAILED_LOGINS": "3"},
    )
    tables = {"auth": {"jwt_algorithm": "HS512", "leeway_seconds": 9}}
    auth = load(settings, PluginsFile(tables=tables)).settings_for("auth", AuthSettings)
    assert (auth.jwt_algorithm, auth.leeway_seconds, auth.max_failed_logins) == ("HS512", 9, 3)
    assert auth.jwt_secret_key is not None
    assert auth.jwt_secret_key.get_secret_value() == TEST_SECRET


def test_a_bad_plugin_setting_names_its_variable_or_its_key(tmp_path):
    settings = settings_for("postgresql://unused/db", tmp_path, {"JWT_ALGORITHM": "none"})
    with pytest.raises(ConfigError) as caught:
        load(settings, PluginsFile(tables={"auth": {"leeway_seconds": "soon"}}))
    assert str(caught.value) == (
        f"{tmp_path / 'plugins.toml'} [plugins.auth]: leeway_seconds: Input should be a valid "
        "integer, unable to parse string as an integer; "
        "JWT_ALGORITHM=none is not valid: use one of HS256, HS384, HS512"
    )
    with pytest.raises(ConfigError, match=r"\[plugins\.auth\]: jwt_algoritm: Extra inputs"):
        load(settings, PluginsFile(tables={"auth": {"jwt_algoritm": "HS512"}}))


@pytest.mark.parametrize(
    ("where", "text", "message"),
    [
        ("absent.toml", None, "PLUGINS_FILE={file}: no such file"),
        ("folder", None, "{file} is a directory"),
        ("not-a-folder/plugins.toml", None, "{file}: cannot read it (Not a directory)"),
        ("custom.toml", "[plugins\n", "{file}: not valid TOML"),
        ("custom.toml", '[plugin]\nenabled = ["health"]\n', "{file}: unknown table [plugin]"),
        ("custom.toml", 'enabled = ["health"]\n', "{file}: enabled must be inside [plugins]"),
        ("custom.toml", "[plugins]\nenable = []\n", "{file}: unknown key 'enable' in [plugins]"),
        (
            "custom.toml",
            "[plugins.tasks]\nmax_page_size = 0\n",
            "{file} [plugins.tasks]: max_page_size",
        ),
    ],
)
def test_a_bad_plugins_file_is_one_line_naming_it(env, tmp_path, where, text, message):
    file = tmp_path / where
    (tmp_path / "folder").mkdir()
    (tmp_path / "not-a-folder").write_text("")
    if text is not None:
        file.write_text(text)
    result = todo_api("migrate", cwd=tmp_path, **(env | {"PLUGINS_FILE": str(file)}))
    assert message.format(file=file) in config_error(result)


def test_the_readmes_tables_are_current():
    readme = (REPOSITORY / "README.md").read_text()
    rows = {line.split("|")[1].strip() for line in readme.splitlines() if line.startswith("| `")}
    assert {f"`{name}`" for name in BUILTINS} <= rows
    variables = {
        line.split("=")[0].lstrip("# ")
        for line in (REPOSITORY / ".env.example").read_text().splitlines()
        if re.match(r"#? ?[A-Z_]{4,}=", line)
    }
    documented = {name for row in rows for name in re.findall(r"`([A-Z_]{4,})`", row)}
    assert variables and variables <= documented
