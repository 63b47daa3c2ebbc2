"""Task: T-381
Spec: specs/features/plugins.md §Hooks

The hook the auth plugin calls on the plugin that sends its mail.
"""

# Hookspecs are signatures with a docstring for a body, which pluggy never calls.
# mypy: disable-error-code="empty-body"

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from app.core import Context, Executor, hookspec

# post(db, letter, payload): queue letter `letter` (one of auth's `mail_letters`) with `payload`.
Post = Callable[[Executor, str, Mapping[str, Any]], Awaitable[None]]


@hookspec
def mail_outbox(context: Context) -> Post | None:
    """Where auth posts its letters (password reset, email verification, email changed): the
    `mail` plugin answers when enabled, and a job composes and sends each; the first answer is
    used. No answer: auth composes them in the request and writes them to the log."""
