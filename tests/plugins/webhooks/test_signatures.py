"""Task: T-169
Spec: specs/features/jobs.md §Signing webhooks

Signatures made by `signature_headers` verify with the `standardwebhooks` package's own
verifier, and fail it when the body, the secret or the timestamp is not the one signed.
"""

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from app.plugins.webhooks.signatures import new_message_id, new_secret, signature_headers

BODY = json.dumps({"type": "task.completed", "data": {"id": "t1"}}).encode()


def test_a_signature_verifies_with_the_standard_verifier():
    secret = new_secret()
    headers = signature_headers(secret, BODY, new_message_id())
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(BODY, headers) == json.loads(BODY)


def test_a_changed_body_or_another_secret_fails():
    secret = new_secret()
    headers = signature_headers(secret, BODY, "msg_1")
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace(b"t1", b"t2"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, headers)


def test_an_old_timestamp_fails_and_a_local_time_is_read_as_the_instant_it_is():
    secret = new_secret()
    stale = signature_headers(secret, BODY, "msg_1", datetime.now(UTC) - timedelta(hours=1))
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(BODY, stale)
    berlin = datetime.now(ZoneInfo("Europe/Berlin"))  # read as the instant it is, not as UTC
    assert Webhook(secret).verify(BODY, signature_headers(secret, BODY, "msg_2", berlin))


def test_secrets_are_fresh_and_prefixed():
    first, second = new_secret(), new_secret()
    assert first.startswith("whsec_") and first != second
