"""Task: T-014, T-116
Spec: specs/api/rest-endpoints.md §Health

The health plugin: liveness and readiness probes, and the readiness hook's first checks.
"""

from collections.abc import Sequence

from fastapi import APIRouter

from app.core import Context, hookimpl, unmigrated
from app.plugins.health.routes import build_router


@hookimpl
def routers(context: Context) -> Sequence[APIRouter]:
    return [
        build_router(context.migrations, context.collect("readiness_checks"), unmigrated(context))
    ]
