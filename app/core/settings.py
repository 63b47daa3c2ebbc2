"""Task: T-002, T-060, T-276
Spec: specs/features/plugins.md §Configuration, §Start-up errors

Process settings, read from the environment (and a `.env` file when present).
"""

import os
from collections.abc import Iterable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings.sources import ENV_FILE_SENTINEL

from app.core.errors import ConfigError


class PoolMode(StrEnum):
    """How the server at `DATABASE_URL` pools connections."""

    auto = "auto"  # transaction when the host name contains `-pooler` (Neon), else session
    session = "session"
    transaction = "transaction"  # PgBouncer in transaction mode


class StatementCache(StrEnum):
    """Whether asyncpg keeps named prepared statements (one round trip per statement, not two)."""

    auto = "auto"  # on, except with DATABASE_POOL_MODE=transaction (a PgBouncer that may not
    # track prepared statements); Neon's pooler does track them
    on = "on"
    off = "off"


LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


def one_of(values: Iterable[str]) -> str:
    """A field's `description` for a choice: what a start-up error says to use."""
    return f"one of {', '.join(values)}"


def _split_commas(value: object) -> object:
    # A comma-separated list is what operators write in an environment variable.
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


# A list setting written as `a,b,c` in the environment (not JSON, as pydantic-settings reads).
CommaSeparated = Annotated[list[str], NoDecode, BeforeValidator(_split_commas)]


class Settings(BaseSettings):
    # `DATABASE_URL=` (as in .env.example) means "no DATABASE_URL", not an empty URL.
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_ignore_empty=True)

    # `description` says what a variable accepts; start-up errors quote it.
    database_url: SecretStr | None = None
    database_pool_mode: PoolMode = Field(default=PoolMode.auto, description=one_of(PoolMode))
    database_pool_size: int = Field(default=10, ge=1, description="a whole number, 1 or more")
    database_statement_cache: StatementCache = Field(
        default=StatementCache.auto, description=one_of(StatementCache)
    )
    # A session (non-pooled) connection for LISTEN: the change feed's live updates and the job
    # queue's wake-ups. Unset: DATABASE_URL itself when it is not a transaction pooler, else
    # both poll.
    database_direct_url: SecretStr | None = None

    allowed_origins: CommaSeparated = ["http://localhost:3000"]
    # The largest request body a route takes unless it declares its own (`@body_limit`).
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=0, description="a whole number of bytes, 0 or more"
    )
    # Strict-Transport-Security max-age; 0 sends none (set it where the API is only on HTTPS).
    hsts_seconds: int = Field(
        default=0, ge=0, description="a whole number of seconds, 0 or more (0: no HSTS header)"
    )
    # Proxies whose X-Forwarded-For/-Proto are believed; none by default.
    forwarded_allow_ips: CommaSeparated = Field(
        default=[], description="addresses or networks, comma-separated (e.g. 10.0.0.0/8), or *"
    )

    plugins_file: Path = Path("plugins.toml")
    data_dir: Path = Path(".data")
    log_level: LogLevel = Field(
        default="INFO", description=f"{one_of(get_args(LogLevel))} (any case)"
    )

    # One line per request from uvicorn. Off by default: it is a synchronous write to stderr on
    # every request, and the platform's proxy in front (Neon-backed apps run behind one) logs
    # requests already.
    access_log: bool = False

    # The `.env` file these settings were read from (None: none); plugins' settings read it too.
    _env_file: Path | None = PrivateAttr(default=None)

    def __init__(self, **values: Any) -> None:
        # Wherever settings are read (the CLI, a uvicorn worker, an embedding app), a bad value
        # is one line naming the variable, never a pydantic traceback.
        env_file = values.get("_env_file", ENV_FILE_SENTINEL)
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise ConfigError(explain(exc.errors(), type(self))) from None
        default = self.model_config.get("env_file")
        chosen = default if env_file is ENV_FILE_SENTINEL else env_file
        self._env_file = Path(chosen) if isinstance(chosen, str | Path) else None

    @property
    def env_file(self) -> Path | None:
        return self._env_file

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        # Python's logging names are upper case, uvicorn's lower case: accept both. Anything
        # else is left as given, so the error quotes what the operator wrote.
        if isinstance(value, str) and value.upper() in get_args(LogLevel):
            return value.upper()
        return value

    @property
    def embedded_database(self) -> bool:
        """True when the database is the embedded development server: no `DATABASE_URL`, or the
        one `todo-api` started and named in `EMBEDDED_DATABASE_URL` (app/cli/embedded.py)."""
        url = self.database_url
        return url is None or url.get_secret_value() == os.environ.get("EMBEDDED_DATABASE_URL")


class PluginSettings(BaseSettings):
    """A plugin's settings read from the environment as well as its `[plugins.<name>]` table:
    each field from its variable (the model's `env_prefix` and the field's name, upper case, or
    its `validation_alias`), from the `.env` file the kernel read, or from the table, which wins.
    A `SecretStr` field comes from the environment only."""

    # Extra variables are other plugins' (the `.env` file holds them all); the loader refuses
    # an unknown key in the table itself.
    model_config = SettingsConfigDict(extra="ignore", env_ignore_empty=True)


def environment_name(model: type[BaseModel], name: str) -> str:
    """The environment variable of field `name` of a settings model."""
    alias = model.model_fields[name].validation_alias
    if isinstance(alias, str):
        return alias.upper()
    prefix = model.model_config.get("env_prefix", "") if issubclass(model, BaseSettings) else ""
    return f"{prefix}{name}".upper()


def is_secret(model: type[BaseModel], name: str) -> bool:
    annotation = model.model_fields[name].annotation
    return SecretStr in (annotation, *get_args(annotation))


def field_named(model: type[BaseModel], key: str) -> str | None:
    """The field that `key` (a name, or an alias as in error locations) stands for."""
    for name, field in model.model_fields.items():
        if key in (name, field.validation_alias, field.alias):
            return name
    return None


def explain(errors: Sequence[ErrorDetails], model: type[BaseModel]) -> str:
    """One line: each rejected variable, the value given, and what it accepts."""
    problems = []
    for error in errors:
        key = str(error["loc"][0]) if error["loc"] else ""
        name = field_named(model, key)
        field = model.model_fields[name] if name else None
        variable = environment_name(model, name) if name else key.upper()
        secret = name is not None and is_secret(model, name)
        given = "" if secret else f"={error['input']}"  # a secret is never echoed
        fix = f"use {field.description}" if field and field.description else error["msg"].lower()
        problems.append(f"{variable}{given} is not valid: {fix}")
    return "; ".join(problems)
