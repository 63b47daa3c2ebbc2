"""Task: T-002, T-060
Spec: specs/features/plugins.md §Configuration, §Start-up errors

Process settings, read from the environment (and a `.env` file when present).
"""

import ipaddress
import os
import re
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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


JwtAlgorithm = Literal["HS256", "HS384", "HS512"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


def _one_of(values: Iterable[str]) -> str:
    return f"one of {', '.join(values)}"


class Settings(BaseSettings):
    # `DATABASE_URL=` (as in .env.example) means "no DATABASE_URL", not an empty URL.
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_ignore_empty=True)

    # `description` says what a variable accepts; start-up errors quote it.
    database_url: SecretStr | None = None
    database_pool_mode: PoolMode = Field(default=PoolMode.auto, description=_one_of(PoolMode))
    database_pool_size: int = Field(default=10, ge=1, description="a whole number, 1 or more")
    database_statement_cache: StatementCache = Field(
        default=StatementCache.auto, description=_one_of(StatementCache)
    )
    # A session (non-pooled) connection for LISTEN: the change feed's live updates and the job
    # queue's wake-ups. Unset: DATABASE_URL itself when it is not a transaction pooler, else
    # both poll.
    database_direct_url: SecretStr | None = None

    jwt_secret_key: SecretStr | None = None
    jwt_algorithm: JwtAlgorithm = Field(
        default="HS256", description=_one_of(get_args(JwtAlgorithm))
    )
    jwt_access_token_expire_minutes: int = Field(
        default=60, ge=1, description="a whole number of minutes, 1 or more"
    )

    better_auth_secret: SecretStr | None = None
    better_auth_url: str | None = None
    better_auth_issuer: str | None = None
    better_auth_audience: str | None = None

    allowed_origins: Annotated[list[str], NoDecode] = ["http://localhost:3000"]
    # The largest request body a route takes unless it declares its own (`@body_limit`).
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=0, description="a whole number of bytes, 0 or more"
    )
    # Strict-Transport-Security max-age; 0 sends none (set it where the API is only on HTTPS).
    hsts_seconds: int = Field(
        default=0, ge=0, description="a whole number of seconds, 0 or more (0: no HSTS header)"
    )
    # Proxies whose X-Forwarded-For/-Proto are believed; none by default.
    forwarded_allow_ips: Annotated[list[str], NoDecode] = Field(
        default=[], description="addresses or networks, comma-separated (e.g. 10.0.0.0/8), or *"
    )

    # Hosts and networks outbound requests (webhooks) may reach although they are not public
    # addresses: a receiver on loopback in tests, an internal service an operator trusts.
    outbound_allow_hosts: Annotated[list[str], NoDecode] = Field(
        default=[],
        description="host names, IP addresses or CIDR networks, comma-separated, without ports "
        "or schemes (e.g. 127.0.0.1,10.1.0.0/16,receiver.internal)",
    )

    plugins_file: Path = Path("plugins.toml")
    data_dir: Path = Path(".data")
    log_level: LogLevel = Field(
        default="INFO", description=f"{_one_of(get_args(LogLevel))} (any case)"
    )

    # One line per request from uvicorn. Off by default: it is a synchronous write to stderr on
    # every request, and the platform's proxy in front (Neon-backed apps run behind one) logs
    # requests already.
    access_log: bool = False

    def __init__(self, **values: Any) -> None:
        # Wherever settings are read (the CLI, a uvicorn worker, an embedding app), a bad value
        # is one line naming the variable, never a pydantic traceback.
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise ConfigError(_explain(exc)) from None

    @field_validator(
        "allowed_origins", "forwarded_allow_ips", "outbound_allow_hosts", mode="before"
    )
    @classmethod
    def _split_commas(cls, value: object) -> object:
        # A comma-separated list is what operators write in an environment variable.
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("outbound_allow_hosts")
    @classmethod
    def _parse_allowances(cls, value: list[str]) -> list[str]:
        hosts_and_networks(value)  # a ValueError names the entry
        return value

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


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# One label of a host name (RFC 1123): letters, digits and inner hyphens; `_` as DNS has them.
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")


def hosts_and_networks(entries: Iterable[str]) -> tuple[frozenset[str], tuple[IPNetwork, ...]]:
    """`OUTBOUND_ALLOW_HOSTS` read: host names (lower case, no trailing dot) and networks.
    Raises ValueError naming an entry that is neither."""
    hosts, networks = set(), []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
            continue
        except ValueError:
            pass
        name = entry.lower().rstrip(".")
        # A port or a scheme (`127.0.0.1:19090`, `https://x`) would never match a request's
        # host: refused here, not found out later as a refused delivery.
        if not all(_LABEL.fullmatch(label) for label in name.split(".")):
            raise ValueError(f"{entry!r} is neither a host name nor an address or network")
        hosts.add(name)
    return frozenset(hosts), tuple(networks)


def _explain(exc: ValidationError) -> str:
    """One line: each rejected variable, the value given, and what it accepts."""
    problems = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else ""
        field = Settings.model_fields.get(name)
        secret = field is not None and SecretStr in (field.annotation, *get_args(field.annotation))
        given = "" if secret else f"={error['input']}"  # a secret is never echoed
        fix = f"use {field.description}" if field and field.description else error["msg"].lower()
        problems.append(f"{name.upper()}{given} is not valid: {fix}")
    return "; ".join(problems)
