"""Task: T-023, T-277
Spec: specs/features/authentication.md §Secrets

The key that signs this API's access tokens.

With a `DATABASE_URL` (any real deployment) `JWT_SECRET_KEY` is required and at least 32
bytes. In the embedded development mode a random secret is created once and kept under the data
folder, so tokens survive restarts without anyone having to invent a secret.
"""

import logging
import os
import secrets

from app.core import ConfigError, Settings
from app.plugins.auth.settings import AuthSettings

logger = logging.getLogger("todo_api")
MIN_BYTES = 32


def signing_secret(settings: Settings, config: AuthSettings) -> bytes:
    if config.jwt_secret_key is not None:
        secret = config.jwt_secret_key.get_secret_value().encode()
        if len(secret) < MIN_BYTES:
            raise ConfigError(
                f"JWT_SECRET_KEY is {len(secret)} bytes; use at least {MIN_BYTES}, e.g. "
                'python -c "import secrets; print(secrets.token_urlsafe(48))"'
            )
        return secret
    if not settings.embedded_database:
        raise ConfigError(
            "JWT_SECRET_KEY is not set; with DATABASE_URL set it is required (32+ bytes), e.g. "
            'python -c "import secrets; print(secrets.token_urlsafe(48))"'
        )
    path = settings.data_dir / "jwt-secret"
    if path.exists():
        return path.read_bytes().strip()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48).encode()
    # O_EXCL: two processes starting together keep whichever secret was written first.
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(descriptor, "wb") as file:
        file.write(secret)
    logger.info("created a development JWT secret in %s (set JWT_SECRET_KEY in production)", path)
    return secret
