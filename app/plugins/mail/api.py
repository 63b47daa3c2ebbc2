"""Task: T-380
Spec: specs/features/authentication.md §Mail

What the mail plugin offers: the `Outbox`, where a plugin posts a letter that a job composes and
sends.

A letter is a name the sending plugin gave a `Compose` (through the `mail_letters` hook) and a
JSON payload. The message is composed in the job, not in the request: a request only queues a
job (one statement, the same whatever the payload leads to), and a secret a message carries (a
one-time link) exists only in the job's memory and in the message, never in the queue's tables.
"""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from app.core import Executor
from app.plugins.jobs.api import JobKind

Compose = Callable[[Executor, Mapping[str, Any]], Awaitable[EmailMessage | None]]


@dataclass(frozen=True)
class Outbox:
    """Queues letters as jobs of `kind` (`mail.send`)."""

    kind: JobKind

    async def post(self, executor: Executor, letter: str, payload: Mapping[str, Any]) -> None:
        """Queue letter `letter` with `payload`, inside `executor`'s transaction when it is one."""
        await self.kind.defer(executor, {"letter": letter, "payload": dict(payload)})
