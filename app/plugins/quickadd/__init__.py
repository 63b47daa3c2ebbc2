"""Task: T-420, T-422
Spec: specs/features/quickadd.md

The quickadd plugin: `POST /api/v1/tasks/quick` makes a task of one line of text ("Pay rent
every month on the 1st at 9am #home !high") and says how it read it. It builds on tasks; a
recurrence is set by whichever plugin implements its `quickadd_recurrence` hook (recurring).
"""

from collections.abc import Sequence

from fastapi import APIRouter

from app.core import Context, hookimpl
from app.plugins.quickadd import hookspecs, routes

__all__ = ["hookspecs"]


@hookimpl
def requires() -> Sequence[str]:
    return ["tasks"]


@hookimpl
def routers(context: Context) -> Sequence[APIRouter]:
    return [routes.build_router(context)]
