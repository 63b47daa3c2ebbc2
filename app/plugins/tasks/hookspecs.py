"""Task: T-246
Spec: specs/features/plugins.md §Hooks

The hook the tasks plugin calls on the plugins that build on it.
"""

# Hookspecs are signatures with a docstring for a body, which pluggy never calls.
# mypy: disable-error-code="empty-body"

from collections.abc import Sequence

from app.core import Context, hookspec
from app.plugins.tasks.writes import InTransaction


@hookspec
def task_subscriptions(context: Context) -> Sequence[InTransaction]:
    """`InTransaction(handler, ops, fields)`: awaited inside the transaction that writes a task
    (it may write too, and its exception rolls the write back)."""
