"""Task: T-242
Spec: specs/features/plugins.md §Hooks

The hooks the changes plugin calls on the plugins that require it.
"""

# Hookspecs are signatures with a docstring for a body, which pluggy never calls.
# mypy: disable-error-code="empty-body"

from collections.abc import Sequence

from app.core import Context, hookspec
from app.plugins.changes.api import AfterCommit


@hookspec
def subscriptions(context: Context) -> Sequence[AfterCommit]:
    """`AfterCommit(name, entities, handler)`: committed changes of tracked tables, its own or
    other plugins', fed from the change log at least once, from a cursor committed with the
    handler's work."""
