"""Task: T-243
Spec: specs/features/plugins.md §Hooks

The hook the jobs plugin calls on the plugins that define jobs.
"""

# Hookspecs are signatures with a docstring for a body, which pluggy never calls.
# mypy: disable-error-code="empty-body"

from collections.abc import Sequence

from app.core import Context, hookspec
from app.plugins.jobs.api import JobKind, Periodic


@hookspec
def jobs(context: Context) -> Sequence[JobKind | Periodic]:
    """The job kinds (`JobKind`) this plugin's code defers, and the `Periodic` schedules that
    defer them at cron times. The jobs plugin's worker runs them; a kind must be listed here to
    run (a job nobody handles waits, and readiness reports it once it is overdue)."""
