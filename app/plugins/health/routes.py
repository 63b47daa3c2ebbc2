"""Task: T-014, T-116, T-118
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
from fastapi import APIRouter, HTTPException
from pydantic import BaseModel
from sqlalchemy import text

from app.core import DB, Database, DatabaseUnavailable, ReadinessCheck, public
from app.core.branches import Record
from app.core.migrations import Migrations
from app.core.problems import Problem

logger = logging.getLogger("todo_api")
TIMEOUT_SECONDS = 5
# One round trip: the database answers, and says which migrations it has.
_APPLIED = text("SELECT coalesce(array_agg(version_num), '{}') FROM alembic_version")
# Only when alembic_version names an orphan's revision: the positions the kernel recorded.
_RECORDED = text("SELECT branch, revision FROM todo_api_branches")


class Status(BaseModel):
    status: str = "ok"


class Readiness(Status):
    database: str = "ok"
    migrations: str = "at head"
    checks: int


def build_router(
    migrations: Migrations, checks: Sequence[ReadinessCheck], unmigrated: Sequence[str] = ()
) -> APIRouter:
    router = APIRouter(prefix="/health", tags=["health"])

    @router.get("", summary="Liveness")
    @public
    async def liveness() -> Status:
        return Status()

    @router.get(
        "/ready",
        summary="Readiness",
        responses={503: {"model": Problem, "description": "Not ready; `detail` says why"}},
    )
    @public
    async def readiness(db: DB) -> Readiness:
        if unmigrated:
            raise HTTPException(503, "; ".join(unmigrated))
        try:
            async with asyncio.timeout(TIMEOUT_SECONDS):
                state = migrations.branches(await db.fetchval(_APPLIED))
                if state.unknown:
                    state = migrations.branches(state.rows, await _records(db))
        except asyncpg.UndefinedTableError:  # never migrated
            state = migrations.branches([])
        except (DatabaseUnavailable, asyncpg.PostgresError, TimeoutError) as exc:
            logger.warning("readiness: database unreachable: %s", type(exc).__name__)
            raise HTTPException(503, "database unreachable") from None
        behind = migrations.behind(state)
        if behind:
            raise HTTPException(
                503, f"migrations not at head for: {', '.join(behind)}; run `todo-api migrate`"
            )
        for check in checks:
            failure = await check(db)
            if failure:
                raise HTTPException(503, failure)
        return Readiness(checks=len(checks))

    return router


async def _records(db: Database) -> dict[str, Record]:
    return {row["branch"]: Record(row["revision"], None) for row in await db.fetch(_RECORDED)}
