"""Task: T-002
Spec: specs/features/plugins.md §Configuration

Process settings, read from the environment (and a `.env` file when present).

Every variable is documented in `.env.example`. Secrets are `SecretStr` so they never reach
a log line or a response by accident.
"""

from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class PoolMode(StrEnum):
    """How the server at `DATABASE_URL` pools connections."""

    auto = "auto"  # transaction when the host name contains `-pooler` (Neon), else session
    session = "session"
    transaction = "transaction"  # PgBouncer in transaction mode: no prepared-statement caches


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: SecretStr | None = None
    database_pool_mode: PoolMode = PoolMode.auto
    database_pool_size: int = Field(default=10, ge=1)

    jwt_secret_key: SecretStr | None = None
    jwt_algorithm: str = "HS256"
    jwt_access_token_expire_minutes: int = Field(default=60, ge=1)

    better_auth_secret: SecretStr | None = None
    better_auth_url: str | None = None
    better_auth_issuer: str | None = None
    better_auth_audience: str | None = None

    allowed_origins: Annotated[list[str], NoDecode] = ["http://localhost:3000"]
    # The largest request body a route takes unless it declares its own (`@body_limit`).
    max_body_bytes: int = Field(default=1024 * 1024, ge=0)
    # Strict-Transport-Security max-age; 0 sends none (set it where the API is only on HTTPS).
    hsts_seconds: int = Field(default=0, ge=0)
    # Proxies whose X-Forwarded-For/-Proto are believed; none by default.
    forwarded_allow_ips: Annotated[list[str], NoDecode] = []

    plugins_file: Path = Path("plugins.toml")
    data_dir: Path = Path(".data")
    log_level: str = "INFO"

    @field_validator("allowed_origins", "forwarded_allow_ips", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        # A comma-separated list is what operators write in an environment variable.
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @property
    def embedded_database(self) -> bool:
        """True when no `DATABASE_URL` is set and the app runs its own PostgreSQL."""
        return self.database_url is None
