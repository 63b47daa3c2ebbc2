"""Task: T-422
Spec: specs/features/quickadd.md §Recurrence

The hook the quickadd plugin calls on the plugin that sets recurrence rules (recurring
implements it with `optionalhook=True`, never importing this plugin).
"""

# Hookspecs are signatures with a docstring for a body, which pluggy never calls.
# mypy: disable-error-code="empty-body"

from collections.abc import Awaitable, Callable
from datetime import datetime

from app.core import Context, Executor, hookspec

# `set_rule(db, task_id, due_at, rule, timezone)`: makes the task just created (due at
# `due_at`, recurring by nothing yet) recur by `rule` in `timezone`, through `db`, the
# transaction that created it. A rule it refuses raises ValueError saying why.
SetRule = Callable[[Executor, str, datetime, str, str], Awaitable[None]]


@hookspec
def quickadd_recurrence(context: Context) -> SetRule:
    """The callable that makes a task quick add just created recur."""
