"""Task: T-380
Spec: specs/features/authentication.md §Mail

The mail plugin's settings: `SMTP_URL` and `MAIL_FROM` from the environment.
"""

from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from app.core import PluginSettings

SCHEMES = ("smtp", "smtps")


class MailSettings(PluginSettings):
    # Each field may also be set as MAIL_<NAME> in the environment.
    model_config = SettingsConfigDict(env_prefix="MAIL_")

    # smtp://user:password@host:587 (STARTTLS when the server offers it) or smtps://…:465
    # (TLS from the start). A secret: it holds the credentials. Unset: mail goes to the log.
    smtp_url: SecretStr | None = Field(default=None, validation_alias="smtp_url")
    mail_from: str = Field(
        default="Todo API <no-reply@localhost>",
        validation_alias="mail_from",
        description="the From header of every message, e.g. Todo API <no-reply@example.com>",
    )
    # A send taking longer fails and is retried by the queue.
    timeout_seconds: float = Field(default=30, gt=0, le=300)

    @field_validator("smtp_url")
    @classmethod
    def _smtp(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parts = urlsplit(value.get_secret_value())
            # The message names no part of the URL: it may hold a password.
            if parts.scheme not in SCHEMES or not parts.hostname:
                raise ValueError("must be smtp://[user:password@]host[:port] or smtps://…")
        return value
