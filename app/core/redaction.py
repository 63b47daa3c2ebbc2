"""Task: T-074
Spec: specs/api/rest-endpoints.md §Errors

Secrets never reach a log: every record is redacted as it is created.
"""

import logging
import re
from email.message import EmailMessage
from typing import Any

MASK = "[redacted]"
# Rules never match what they wrote, so a redacted text is clean and redacting it changes nothing.
_NOT_MASKED = r"(?!\[redacted\])"

_PATH_SECRET = r"(?<=[/.])[A-Za-z0-9_-]{40,}"
_path_secret = re.compile(_PATH_SECRET)
_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        # asyncpg quotes the value it could not encode, then may quote it again in its reason.
        (r"(invalid input for query argument \$\d+:)(?! \[redacted\]).*", rf"\1 {MASK}"),
        (r"\b((?i:bearer|basic))\s+[\w.~+/=-]+", rf"\1 {MASK}"),
        (r"\beyJ[\w-]+\.[\w.-]+", MASK),
        (r"\$argon2(?:id|i|d)\$[^\s'\"]+", MASK),
        (rf"(://[^/\s:@]+:){_NOT_MASKED}[^/\s@]+@", rf"\1{MASK}@"),
        # A secret in a URL's path (an invitation link, a calendar feed): a segment, or a dotted
        # part of one, of 40 or more URL-safe characters. Ids (uuids, 36) stay readable.
        (_PATH_SECRET, MASK),
        # The value after a secret-sounding key (`refresh_token`, `jwt_secret_key`, …) and its
        # `=`, `:`, or a header tuple's `', b'`: quoted, or up to a delimiter.
        (
            r"""((?i:password|passwd|secret|token|authorization|api[_-]?key)[\w.-]*["']?"""
            rf"""(?:\s*[:=]\s*|,\s*b?(?=["']))){_NOT_MASKED}"""
            r"""("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s"'&,;)}\]]+)""",
            rf"\1{MASK}",
        ),
    )
)
# A word every rule needs, in lower case. Most log lines (uvicorn's access log: one a request)
# have none, and finding that out costs under a microsecond, where the rules cost tens.
_TRIGGERS = (
    "invalid input for query",
    "bearer",
    "basic",
    "eyj",
    "$argon2",
    "://",
    "passw",
    "secret",
    "token",
    "authorization",
    "api_key",
    "api-key",
    "apikey",
)
_formatter = logging.Formatter()


def _suspect(text: str) -> bool:
    lowered = text.lower()
    for word in _TRIGGERS:  # any() costs twice this, on every log record
        if word in lowered:
            return True
    return _path_secret.search(text) is not None


def redact(text: str) -> str:
    if not _suspect(text):
        return text
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


def _redact_record(record: logging.LogRecord) -> None:
    message = record.getMessage()
    if redact(message) != message:
        if isinstance(record.args, tuple):
            # Redact the arguments one by one when that is enough: some formatters read them
            # apart (uvicorn's access log unpacks client, method, path, version and status).
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
            message = record.getMessage()
        redacted = redact(message)
        if redacted != message:  # a secret across the template and an argument, or in an object
            record.msg, record.args = redacted, ()
    if record.exc_info:
        record.exc_text = redact(_formatter.formatException(record.exc_info))
        record.exc_info = None
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def install() -> None:
    """Redact every log record from now on, in this process; installing twice changes nothing."""
    make_record = logging.getLogRecordFactory()
    if getattr(make_record, "redacts", False):
        return

    def redacted_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        _redact_record(record)
        return record

    redacted_record.redacts = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(redacted_record)


def log_unsent_mail(logger: logging.Logger, message: EmailMessage, reveal: bool, why: str) -> None:
    """Write a message that was not sent to the log: only its address and subject, since its
    body may hold a one-time link (a secret); whole when `reveal` (the embedded development
    database: `make run`, where a developer must be able to follow the link), in the one record
    that is not redacted: made here, past the record factory that redacts every other."""
    if not reveal:
        logger.warning("mail to %s (%s) not sent: %s", message["To"], message["Subject"], why)
    elif logger.isEnabledFor(logging.INFO):
        text = f"mail not sent ({why}):\nTo: {message['To']}\nSubject: {message['Subject']}"
        text += f"\n\n{message.get_content()}"
        logger.handle(logging.LogRecord(logger.name, logging.INFO, __file__, 0, text, None, None))


# What an error's summary keeps: its first line, at most this long.
SUMMARY_CHARS = 200


def error_summary(message: str) -> str:
    """An error fit for a record an operator reads: its first line (the values or SQL come
    after), redacted, cut to `SUMMARY_CHARS`."""
    first = message.strip().split("\n", 1)[0]
    return redact(first)[:SUMMARY_CHARS]
