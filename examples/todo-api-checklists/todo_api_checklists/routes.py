"""`/api/v1/checklists`: the caller's checklists.

Statements are built once, at import, with values as bind parameters: the kernel compiles each
once and scopes it to the caller (`OwnedDB`), so none mentions a user. Another user's row is
never found: 404, exactly like a missing one.
"""

from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Boolean, Text, bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col

from app.core import OwnedDB, Problem, new_id, utcnow
from todo_api_checklists.models import Checklist
from todo_api_checklists.settings import Settings


class ChecklistIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    done: bool = False


class ChecklistChange(BaseModel):
    """Only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=200)
    done: bool | None = None


class ChecklistOut(BaseModel):
    id: str
    title: str
    done: bool
    created_at: datetime  # UTC, answered as 2030-01-02T03:04:05Z


# `col()` gives a model attribute its SQL type, for type checkers.
KEY, TITLE, DONE, CREATED_AT = map(
    col,
    (Checklist.id, Checklist.title, Checklist.done, Checklist.created_at),
)
COLUMNS = (KEY, TITLE, DONE, CREATED_AT)
ID = bindparam("id", type_=Text)
LIST = select(*COLUMNS).order_by(CREATED_AT, KEY).limit(bindparam("limit"))
GET = select(*COLUMNS).where(KEY == ID)
# The id is chosen before sending: a retried INSERT (the kernel retries once on a dropped
# connection) finds its own row and changes nothing.
CREATE = (
    insert(Checklist)
    .values(
        id=ID,
        title=bindparam("title"),
        done=bindparam("done"),
        created_at=bindparam("created_at"),
    )
    .on_conflict_do_nothing(index_elements=[KEY])
)
CHANGE = (
    update(Checklist)
    .where(KEY == ID)
    .values(
        title=func.coalesce(bindparam("title", type_=Text), TITLE),
        done=func.coalesce(bindparam("done", type_=Boolean), DONE),
    )
    .returning(*COLUMNS)
)
DELETE = delete(Checklist).where(KEY == ID).returning(KEY)
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "No such checklist for this user"}
}


def _not_found() -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, "Checklist not found")


def build_router(settings: Settings) -> APIRouter:
    router = APIRouter(prefix="/checklists", tags=["checklists"])

    @router.get("")
    async def list_checklists(db: OwnedDB) -> list[ChecklistOut]:
        rows = await db.fetch(LIST, limit=settings.page_size)
        return [ChecklistOut.model_validate(dict(row)) for row in rows]

    @router.post("", status_code=status.HTTP_201_CREATED)
    async def create_checklist(body: ChecklistIn, db: OwnedDB) -> ChecklistOut:
        created = ChecklistOut(id=new_id(), created_at=utcnow(), **body.model_dump())
        await db.execute(CREATE, **created.model_dump())
        return created

    @router.get("/{checklist_id}", responses=NOT_FOUND)
    async def get_checklist(checklist_id: str, db: OwnedDB) -> ChecklistOut:
        row = await db.fetchrow(GET, id=checklist_id)
        if row is None:
            raise _not_found()
        return ChecklistOut.model_validate(dict(row))

    @router.patch("/{checklist_id}", responses=NOT_FOUND)
    async def change_checklist(
        checklist_id: str, body: ChecklistChange, db: OwnedDB
    ) -> ChecklistOut:
        row = await db.fetchrow(CHANGE, id=checklist_id, **body.model_dump())
        if row is None:
            raise _not_found()
        return ChecklistOut.model_validate(dict(row))

    @router.delete("/{checklist_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
    async def delete_checklist(checklist_id: str, db: OwnedDB) -> None:
        if await db.fetchval(DELETE, id=checklist_id) is None:
            raise _not_found()

    return router
