"""Task: T-380
Spec: specs/features/authentication.md §Mail

Hands a message to the SMTP server of `SMTP_URL` with aiosmtplib, or, without one (development),
writes it to the log with its links, so that `make run` works alone.
"""

import logging
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import aiosmtplib

from app.core import log_unsent_mail
from app.plugins.mail.settings import MailSettings

logger = logging.getLogger("app.plugins.mail")


async def deliver(config: MailSettings, message: EmailMessage, reveal: bool) -> None:
    """Send `message` (From set to `MAIL_FROM` unless it has one); raise when the server refuses
    it or cannot be reached, so that the queue tries again. Without `SMTP_URL`, log it: whole
    when `reveal` (the embedded development database), else only its address and subject (its
    body may hold a one-time link)."""
    if message["From"] is None:
        message["From"] = config.mail_from
    if config.smtp_url is None:
        log_unsent_mail(logger, message, reveal, "SMTP_URL is unset")
        return
    url = urlsplit(config.smtp_url.get_secret_value())
    tls = url.scheme == "smtps"
    await aiosmtplib.send(
        message,
        hostname=url.hostname,
        port=url.port or (465 if tls else 587),
        username=unquote(url.username) if url.username else None,
        password=unquote(url.password) if url.password else None,
        use_tls=tls,
        # smtp://: STARTTLS when the server offers it (aiosmtplib's default).
        timeout=config.timeout_seconds,
    )
