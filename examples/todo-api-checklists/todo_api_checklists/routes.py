"""Task: T-124, T-279
Spec: specs/features/plugins.md §Writing a plugin, §Isolation

`/api/v1/tasks/{task_id}/items`: the items of one of the caller's tasks.

Statements are built once, at import, with values as bind parameters; the kernel scopes each to
the caller (`OwnedDB`) — the task as much as its items — so none mentions a user. Another
user's task, or item, is never found: 404, exactly like a missing one. An item is attached with
`INSERT … SELECT` from the task, so the insert finds no task of another user to attach to, and
the task row is locked against deletion (`FOR KEY SHARE`) until the insert is done.
"""

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import (
    Boolean,
    DateTime,
    Text,
    and_,
    bindparam,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col

from app.core import Context, OwnedDB, Problem, json_response, new_id, one_or_404, utcnow
from app.plugins.tasks.api import Task
from todo_api_checklists.models import ChecklistItem
from todo_api_checklists.settings import Settings


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    done: bool = False


class ItemChange(BaseModel):
    """Only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=200)
    done: bool | None = None


class ItemOut(BaseModel):
    id: str
    task_id: str
    title: str
    done: bool
    created_at: datetime  # UTC, answered as 2030-01-02T03:04:05Z


# `col()` gives a model attribute its SQL type, for type checkers.
KEY, TASK, TITLE, DONE, CREATED_AT = map(
    col,
    (
        ChecklistItem.id,
        ChecklistItem.task_id,
        ChecklistItem.title,
        ChecklistItem.done,
        ChecklistItem.created_at,
    ),
)
TASK_KEY = col(Task.id)
COLUMNS = (KEY, TASK, TITLE, DONE, CREATED_AT)
ID = bindparam("id", type_=Text)
TASK_ID = bindparam("task_id", type_=Text)

# The task and its items in one round trip: the task is the outer side (scoped in WHERE), its
# items are joined (scoped in ON), so a task without items is one row of NULLs and another
# user's task no row at all.
LIST = (
    select(TASK_KEY.label("task"), *COLUMNS)
    .select_from(Task)
    .outerjoin(ChecklistItem, and_(TASK == TASK_KEY))
    .where(TASK_KEY == TASK_ID)
    .order_by(CREATED_AT, KEY)
    .limit(bindparam("limit"))
)
# Attach to the task only if the caller owns it. The id is chosen before sending: a retried
# INSERT (the kernel retries once on a dropped connection) finds its own row (`GET`).
CREATE = (
    insert(ChecklistItem)
    .from_select(
        ["id", "task_id", "title", "done", "created_at"],
        select(
            ID,
            TASK_KEY,
            bindparam("title", type_=Text),
            bindparam("done", type_=Boolean),
            bindparam("created_at", type_=DateTime(timezone=True)),
        )
        .where(TASK_KEY == TASK_ID)
        .with_for_update(read=True, key_share=True),
    )
    .on_conflict_do_nothing(index_elements=[KEY])
    .returning(KEY)
)
GET = select(*COLUMNS).where(KEY == ID, TASK == TASK_ID)
CHANGE = (
    update(ChecklistItem)
    .where(KEY == ID, TASK == TASK_ID)
    .values(
        title=func.coalesce(bindparam("title", type_=Text), TITLE),
        done=func.coalesce(bindparam("done", type_=Boolean), DONE),
    )
    .returning(*COLUMNS)
)
DELETE = delete(ChecklistItem).where(KEY == ID, TASK == TASK_ID).returning(KEY)
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "No such task, or item, for this user"}
}


def build_router(context: Context) -> APIRouter:
    settings = context.settings_for("checklists", Settings)
    router = APIRouter(prefix="/tasks/{task_id}/items", tags=["checklists"])

    @router.get(
        "",
        response_model=list[ItemOut],
        responses=NOT_FOUND,
        description="Answers the items of your task's checklist; a 404 if the task is not yours.",
    )
    async def list_items(task_id: str, db: OwnedDB) -> Response:
        rows = one_or_404(
            await db.fetch(LIST, task_id=task_id, limit=settings.page_size) or None, "Task"
        )
        return json_response(
            [ItemOut.model_validate(dict(row)) for row in rows if row["id"] is not None]
        )

    @router.post(
        "",
        status_code=status.HTTP_201_CREATED,
        response_model=ItemOut,
        responses=NOT_FOUND,
        description="Adds an item to your task's checklist and answers it; a 404 if the task is "
        "not yours.",
    )
    async def create_item(task_id: str, body: ItemIn, db: OwnedDB) -> Response:
        item = ItemOut(id=new_id(), task_id=task_id, created_at=utcnow(), **body.model_dump())
        values = item.model_dump()
        if await db.fetchval(CREATE, **values) is None:
            one_or_404(await db.fetchrow(GET, **values), "Task")
        return json_response(item, status.HTTP_201_CREATED)

    @router.get(
        "/{item_id}",
        response_model=ItemOut,
        responses=NOT_FOUND,
        description="Answers one item of your task's checklist.",
    )
    async def get_item(task_id: str, item_id: str, db: OwnedDB) -> Response:
        row = await db.fetchrow(GET, id=item_id, task_id=task_id)
        return json_response(ItemOut.model_validate(dict(one_or_404(row, "Item"))))

    @router.patch(
        "/{item_id}",
        response_model=ItemOut,
        responses=NOT_FOUND,
        description="Changes the item's title or ticks it done (the fields sent) and answers it.",
    )
    async def change_item(task_id: str, item_id: str, body: ItemChange, db: OwnedDB) -> Response:
        row = await db.fetchrow(CHANGE, id=item_id, task_id=task_id, **body.model_dump())
        return json_response(ItemOut.model_validate(dict(one_or_404(row, "Item"))))

    @router.delete(
        "/{item_id}",
        status_code=status.HTTP_204_NO_CONTENT,
        responses=NOT_FOUND,
        description="Deletes the item from your task's checklist.",
    )
    async def delete_item(task_id: str, item_id: str, db: OwnedDB) -> None:
        one_or_404(await db.fetchval(DELETE, id=item_id, task_id=task_id), "Item")

    return router
