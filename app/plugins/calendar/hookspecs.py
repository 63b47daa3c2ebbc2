"""Task: T-434
Spec: specs/features/calendar.md §Recurring tasks

The hook the calendar plugin calls on the plugins that know more about a task than `tasks`
does; answered with `@hookimpl(optionalhook=True)`, so the answering plugin runs without this
one, and never imports it.
"""

# Hookspecs are signatures with a docstring for a body, which pluggy never calls.
# mypy: disable-error-code="empty-body"

from collections.abc import Sequence
from typing import Any

from app.core import Context, hookspec


@hookspec
def calendar_recurrences(context: Context) -> Sequence[Any]:
    """SQLAlchemy selects of `(task_id, rule, timezone)`: the RFC 5545 RRULE (without DTSTART)
    a task recurs by, and the IANA zone its due time recurs in, for the task that stands for the
    series (one row per series). The feed's one statement LEFT JOINs them, scoped to the feed's
    owner as the rest of it is."""
