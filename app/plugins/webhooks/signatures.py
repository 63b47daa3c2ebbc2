"""Task: T-167
Spec: specs/features/jobs.md §Signing webhooks

Standard Webhooks signatures (`webhook-id`, `webhook-timestamp`, `webhook-signature`), made by
the `standardwebhooks` package itself, so receivers can verify them with any Standard Webhooks
library.
"""

import base64
import secrets
import uuid
from datetime import UTC, datetime

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A signing secret for one endpoint: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def signature_headers(
    secret: str, body: bytes, message_id: str, at: datetime | None = None
) -> dict[str, str]:
    """The three headers for sending `body` (UTF-8 JSON). Keep `message_id` for every attempt
    of one message: receivers use it to drop duplicates."""
    at = (at or datetime.now(UTC)).astimezone(UTC)
    # The package reads the timestamp's wall clock as UTC, so it is given UTC.
    signature = Webhook(secret).sign(message_id, at, body.decode())
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
    }
