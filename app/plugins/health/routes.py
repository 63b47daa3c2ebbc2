"""Task: T-014, T-116, T-118, T-154, T-208, T-279
Spec: specs/api/rest-endpoints.md §Health

`GET /api/v1/health` answers without touching the database (liveness: is the process
serving?). `GET /api/v1/health/ready` makes a database round trip, checks that every enabled
plugin with tables ships migrations and that they are at head, and runs the checks other
plugins contributed; any failure is a 503 problem saying what is wrong (readiness: should
traffic come here?). A branch of an uninstalled plugin (an orphan) is no reason to be unready.
"""

import asyncio
import logging
from collections.abc import Sequence

import asyncpg
from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel

from app.core import (
    DB,
    Count,
    DatabaseUnavailable,
    Migrations,
    ReadinessCheck,
    documented,
    json_response,
    public,
)

logger = logging.getLogger("todo_api")
TIMEOUT_SECONDS = 5
RETRY_AFTER_SECONDS = 5


class Status(BaseModel):
    """The process serves."""

    model_config = documented({"status": "ok"})

    status: str = "ok"
    """Always `ok`."""


class Readiness(Status):
    """Ready for traffic: the database answers and is up to date."""

    model_config = documented(
        {
            "status": "ok",
            "database": "ok",
            "migrations": "at head",
            "checks": 2,
            "counts": {"set_aside_changes": 0, "held_jobs": 0},
        }
    )

    database: str = "ok"
    """`ok`: it answered."""
    migrations: str = "at head"
    """`at head`: every enabled plugin's migrations have run."""
    checks: int
    """How many plugin readiness checks passed."""
    counts: dict[str, int] = {}
    """What the checks report while ready: `set_aside_changes` (changes an after-commit
    consumer set aside), `held_jobs` (jobs that failed every try), when those plugins run."""


def _not_ready(detail: str) -> HTTPException:
    # Like every 503 of the API: when to ask again.
    return HTTPException(503, detail, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def build_router(
    migrations: Migrations, checks: Sequence[ReadinessCheck], unmigrated: Sequence[str] = ()
) -> APIRouter:
    router = APIRouter(prefix="/health", tags=["health"])

    @router.get(
        "",
        summary="Liveness",
        response_model=Status,
        description="Answers 200 while the process serves requests, without touching the "
        "database: a liveness probe. Needs no token.",
    )
    @public
    async def liveness() -> Response:
        return json_response(Status())

    @router.get(
        "/ready",
        summary="Readiness",
        response_model=Readiness,
        responses={503: {"description": "Not ready; `detail` says why"}},
        description="Answers 200 when the database answers, every plugin's migrations are at head "
        "and every plugin's readiness check passes (with their counts); otherwise 503 saying why. "
        "Needs no token: a load balancer's readiness probe.",
    )
    @public
    async def readiness(db: DB) -> Response:
        if unmigrated:
            raise _not_ready("; ".join(unmigrated))
        try:
            async with asyncio.timeout(TIMEOUT_SECONDS):
                behind = await migrations.behind_now(db)
        except (DatabaseUnavailable, asyncpg.PostgresError, TimeoutError) as exc:
            logger.warning("readiness: database unreachable: %s", type(exc).__name__)
            raise _not_ready("database unreachable") from None
        if behind:
            raise _not_ready(
                f"migrations not at head for: {', '.join(behind)}; run `todo-api migrate`"
            )
        counts = {}
        for check in checks:
            answer = await check(db)
            if isinstance(answer, Count):
                counts[answer.name] = answer.value
            elif answer:
                raise _not_ready(answer)
        return json_response(Readiness(checks=len(checks), counts=counts))

    return router
