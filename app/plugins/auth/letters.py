"""Task: T-381, T-382, T-383, T-385
Spec: specs/features/authentication.md §Mail

The messages auth sends, composed from a small payload where they are sent: in the `mail`
plugin's job when it is enabled (`mail_outbox`), else in the request, written to the log.

Composing issues the one-time token, so its plaintext lives only in the message: never in the
queue's payload, never in a table.
"""

import logging
from collections.abc import Awaitable, Callable, Mapping
from email.message import EmailMessage
from typing import Any
from urllib.parse import quote

from app.core import Executor, log_unsent_mail
from app.plugins.auth import account_tokens
from app.plugins.auth.hookspecs import Post
from app.plugins.auth.settings import AuthSettings

logger = logging.getLogger("app.plugins.auth")

Compose = Callable[[Executor, Mapping[str, Any]], Awaitable[EmailMessage | None]]
RESET, VERIFY, EMAIL_CHANGED = "auth.password_reset", "auth.verify_email", "auth.email_changed"


def _message(to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return message


def _greeting(name: str | None) -> str:
    return f"Hello {name}," if name else "Hello,"


def composers(config: AuthSettings) -> dict[str, Compose]:
    """Auth's letters by name, each composing its message from its payload."""
    base = config.links_base_url.rstrip("/")

    def link(path: str, token: str) -> str:
        # The token as the path's last segment: a front end route reads it from there.
        return f"{base}/{path}/{quote(token)}"

    async def password_reset(db: Executor, payload: Mapping[str, Any]) -> EmailMessage | None:
        issued = await account_tokens.issue_reset(db, payload["email"])
        if issued is None:  # no such local account: nothing is sent, the request did the same
            return None
        token, email, name = issued
        minutes = account_tokens.LIFETIME_MINUTES[account_tokens.RESET]
        return _message(
            email,
            "Reset your password",
            f"{_greeting(name)}\n\nSomebody asked to reset the password of your account. To "
            f"choose a new one, open this link within {minutes} minutes:\n\n"
            f"{link('reset-password', token)}\n\nIt works once. If it was not you, ignore this "
            "message: your password stays as it is.\n",
        )

    async def verify_email(db: Executor, payload: Mapping[str, Any]) -> EmailMessage | None:
        issued = await account_tokens.issue_verification(db, payload["user_id"])
        if issued is None:  # verified already, or the account is gone
            return None
        token, email, name = issued
        return _message(
            email,
            "Confirm your email address",
            f"{_greeting(name)}\n\nTo confirm that this is your address, open this link within "
            f"24 hours:\n\n{link('verify-email', token)}\n",
        )

    async def email_changed(db: Executor, payload: Mapping[str, Any]) -> EmailMessage | None:
        return _message(
            payload["old_email"],
            "Your email address was changed",
            f"Hello,\n\nThe email address of your account was changed from this one to "
            f"{payload['new_email']}. If you did not do this, reply to this message or contact "
            "support at once.\n",
        )

    return {RESET: password_reset, VERIFY: verify_email, EMAIL_CHANGED: email_changed}


def logging_outbox(composers: Mapping[str, Compose], reveal: bool) -> Post:
    """Where letters go without the `mail` plugin: composed at once and written to the log
    (`log_unsent_mail`), so that `make run` with auth alone works."""

    async def post(db: Executor, letter: str, payload: Mapping[str, Any]) -> None:
        message = await composers[letter](db, payload)
        if message is not None:
            log_unsent_mail(logger, message, reveal, "the mail plugin is not enabled")

    return post
