"""Task: T-380, T-381
Spec: specs/features/authentication.md §Mail

The mail plugin: letters posted by other plugins are composed and sent by a job (`mail.send`),
so a slow mail server never slows a request and a failed send is retried by the queue. It
requires `jobs`. The auth plugin, which must start without `jobs`, reaches it through its own
`mail_outbox` hook, implemented here; without this plugin auth writes its letters to the log.
"""

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from pydantic import BaseModel

from app.core import Context, Executor, hookimpl
from app.plugins.jobs.api import Job, JobKind, Periodic
from app.plugins.mail import hookspecs
from app.plugins.mail.api import Compose, Outbox
from app.plugins.mail.sender import deliver
from app.plugins.mail.settings import MailSettings

__all__ = ["hookspecs"]

NAME = "mail"
logger = logging.getLogger("app.plugins.mail")


def _outbox(context: Context) -> Outbox:
    def make() -> Outbox:
        config = context.settings_for(NAME, MailSettings)
        if config.smtp_url is None:
            logger.warning("SMTP_URL is unset: mail is written to the log, not sent")
        letters: dict[str, Compose] = {}
        reveal = context.settings.embedded_database

        async def send(job: Job) -> None:
            if not letters:  # asked once, when the first letter is sent: every plugin is loaded
                for answer in context.hook.mail_letters(context=context):
                    letters.update(answer)
            compose = letters.get(job.payload["letter"])
            if compose is None:  # its plugin was disabled since: held after the retries
                raise LookupError(f"no plugin sends letter {job.payload['letter']!r}")
            message = await compose(job.db, job.payload["payload"])
            if message is not None:
                await deliver(config, message, reveal)

        kind = JobKind(
            "mail.send",
            send,
            # 10 s, 20 s, 40 s … at most 10 minutes apart: a mail server down for an hour loses
            # nothing.
            retries=10,
            backoff=timedelta(seconds=10),
            max_backoff=timedelta(minutes=10),
        )
        return Outbox(kind)

    return context.shared(NAME, make)


@hookimpl
def requires() -> Sequence[str]:
    return ["jobs"]


@hookimpl
def settings_model() -> type[BaseModel]:
    return MailSettings


@hookimpl
def jobs(context: Context) -> Sequence[JobKind | Periodic]:
    return [_outbox(context).kind]


@hookimpl(optionalhook=True)
def mail_outbox(
    context: Context,
) -> Callable[[Executor, str, Mapping[str, Any]], Awaitable[None]] | None:
    """The auth plugin's hook: where it posts its letters."""
    return _outbox(context).post
