"""Task: T-381, T-392, T-394
Spec: specs/features/plugins.md §Hooks; specs/features/authentication.md §Account deletion,
§Data export

The hooks the auth plugin calls: on the plugin that sends its mail, and on the plugins that keep
data for a user. The latter's answers are plain callables and statements, so a plugin that does
not require `auth` answers them too (with `@hookimpl(optionalhook=True)`, as they exist only
while `auth` is enabled).
"""

# Hookspecs are signatures with a docstring for a body, which pluggy never calls.
# mypy: disable-error-code="empty-body"

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from sqlalchemy.sql import ColumnElement, Select

from app.core import Context, Executor, hookspec

# post(db, letter, payload): queue letter `letter` (one of auth's `mail_letters`) with `payload`.
Post = Callable[[Executor, str, Mapping[str, Any]], Awaitable[None]]


@hookspec
def mail_outbox(context: Context) -> Post | None:
    """Where auth posts its letters (password reset, email verification, email changed): the
    `mail` plugin answers when enabled, and a job composes and sends each; the first answer is
    used. No answer: auth composes them in the request and writes them to the log."""


@hookspec
def before_account_deletion(context: Context) -> Callable[[Executor, str], Awaitable[None]]:
    """`step(transaction, user_id)`, awaited inside the transaction that deletes a user, before
    the `users` row goes: hand over what others keep (the tasks plugin hands shared lists to an
    editor). `transaction` is unscoped; `.owned(user_id)` scopes it. An exception rolls the
    whole deletion back."""


@hookspec
def after_account_deletion(context: Context) -> Callable[[Executor, str], Awaitable[None]]:
    """`step(transaction, user_id)`, awaited inside the transaction that deletes a user, after
    the `users` row and its cascade: delete what the cascade did not reach (rows without a
    foreign key to `users`, rows its triggers wrote). An exception rolls the deletion back."""


@hookspec
def account_export(
    context: Context,
) -> Mapping[str, tuple[Select[Any], ColumnElement[Any] | tuple[ColumnElement[Any], ...]]]:
    """`{name: (statement, key)}`: what the user's data export holds of this plugin. Each
    `statement` (a SELECT on one of the plugin's `Owned` tables, the table of `key`) is run
    scoped to the user, for the rows they own (`user_id`), a page at a time in the order of
    `key`: a column, or a tuple of columns, unique together, that it selects (best what an
    index led by `user_id` orders by). Its rows are the export's `name` array."""
