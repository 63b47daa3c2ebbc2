"""Task: T-182, T-185, T-279
Spec: specs/api/rest-endpoints.md §Reminders

`/api/v1/tasks/{task_id}/reminders` (a task's reminders), `/api/v1/reminders/{id}` and the
inbox, `/api/v1/reminders/inbox`. Every statement goes through an executor scoped to the caller,
so another user's task, reminder or inbox item is not found: 404. A reminder is created in a
transaction with the job that fires it, so the job exists exactly when the reminder does.
"""

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request, Response, status

from app.core import (
    DB,
    LINK,
    CurrentUser,
    OwnedDB,
    QueryParameters,
    id_or_404,
    invalid,
    is_id,
    json_response,
    new_id,
    page_size,
)
from app.plugins.reminders import queries
from app.plugins.reminders.durations import parse_offset
from app.plugins.reminders.firing import Reminders
from app.plugins.reminders.schemas import (
    REMINDER_ID,
    TASK_ID,
    InboxItemOut,
    InboxQuery,
    ReminderCreate,
    ReminderOut,
)

INBOX_ITEM_ID = "5d3a3c1e-0b8e-4f55-9f0e-2f6c1d7e8a90"
TaskId = Annotated[
    str,
    Path(description="The task's id; one that names no task of yours is a 404", examples=[TASK_ID]),
]
ReminderId = Annotated[
    str,
    Path(
        description="The reminder's id; one that names no reminder of yours is a 404",
        examples=[REMINDER_ID],
    ),
]
ItemId = Annotated[
    str,
    Path(
        description="The inbox item's id; one that names no item of yours is a 404",
        examples=[INBOX_ITEM_ID],
    ),
]
TASK_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such task of yours"}}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such reminder of yours"}}
ITEM_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such inbox item of yours"}
}
INBOX_QUERY = QueryParameters(InboxQuery)


def build_router(reminders: Reminders) -> APIRouter:
    settings = reminders.settings
    router = APIRouter(tags=["reminders"])

    @router.post(
        "/tasks/{task_id}/reminders",
        name="create",
        summary="Add a reminder to a task",
        status_code=status.HTTP_201_CREATED,
        response_model=ReminderOut,
        responses={
            **TASK_NOT_FOUND,
            409: {"description": f"The task has {settings.max_per_task} reminders already"},
        },
        description="Adds a reminder to your task, at an instant (`at`) or an ISO 8601 duration "
        "from its `due_at` (`offset`). When due it fires once, into your inbox (`GET "
        "/reminders/inbox`).",
    )
    async def create_reminder(
        task_id: TaskId, body: ReminderCreate, database: DB, user: CurrentUser
    ) -> Response:
        task_id = id_or_404(task_id, "Task")
        offset = None if body.offset is None else parse_offset(body.offset)
        async with database.transaction() as transaction:
            db = transaction.owned(user.id)
            values = {"task_id": task_id, "at": body.at, "offset_seconds": offset}
            row = await db.fetchrow(
                queries.CREATE,
                id=new_id(),
                now=reminders.clock.now(),
                max_per_task=settings.max_per_task,
                **values,
            )
            if row is None:
                await _refused(db, task_id, relative=offset is not None)
            await reminders.defer(transaction, user.id, row)
        return json_response(ReminderOut.of(row), status.HTTP_201_CREATED)

    async def _refused(db: Any, task_id: str, relative: bool) -> None:
        found = await db.fetchrow(queries.DIAGNOSE, task_id=task_id)
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "Task not found")
        if relative and found["due_at"] is None:
            raise invalid(
                ("body", "offset"), "the task has no due_at: give one, or an absolute `at`"
            )
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"The task has {settings.max_per_task} reminders already: delete one first",
        )

    @router.get(
        "/tasks/{task_id}/reminders",
        name="list",
        summary="List a task's reminders, soonest first",
        response_model=list[ReminderOut],
        responses=TASK_NOT_FOUND,
        description="Answers the task's reminders, soonest first, whether pending, fired or "
        "cancelled.",
    )
    async def list_reminders(task_id: TaskId, db: OwnedDB) -> Response:
        rows = await db.fetch(queries.LIST, task_id=id_or_404(task_id, "Task"))
        if not rows:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "Task not found")
        return json_response(
            [ReminderOut.of(_reminder(row)) for row in rows if row["id"] is not None]
        )

    # Before `/reminders/{reminder_id}`, which would take "inbox" for an id.
    @router.get(
        "/reminders/inbox",
        name="inbox",
        summary="Your reminders that fired, newest first, a page at a time",
        response_model=list[InboxItemOut],
        responses={200: {"headers": LINK}},
        openapi_extra=INBOX_QUERY.openapi,
        description="Answers the reminders that fired, newest first, one page at a time: follow "
        "the `Link` header (`rel=next`) until a page has none. Items stay after their reminder or "
        "task is deleted.",
    )
    async def inbox(request: Request, db: OwnedDB) -> Response:
        query = INBOX_QUERY.parse(request)
        limit = page_size(query.limit, settings.default_page_size, settings.max_page_size)
        if query.before is None:
            rows = await db.fetch(queries.INBOX, limit=limit + 1)
        else:
            if not is_id(query.before):
                raise invalid(("query", "before"), "must be an inbox item's id")
            rows = await db.fetch(queries.INBOX_BEFORE, id=query.before, limit=limit + 1)
        headers = {}
        if len(rows) > limit:
            rows = rows[:limit]
            url = request.url.include_query_params(limit=limit, before=rows[-1]["id"])
            headers["Link"] = f'<{url}>; rel="next"'
        return json_response(
            [InboxItemOut.model_validate(dict(row)) for row in rows], headers=headers
        )

    @router.post(
        "/reminders/inbox/{item_id}/read",
        name="read",
        summary="Mark an inbox item read (idempotent)",
        response_model=InboxItemOut,
        responses=ITEM_NOT_FOUND,
        description="Marks the inbox item read and answers it; an item read already is answered "
        "as it is.",
    )
    async def mark_read(item_id: ItemId, db: OwnedDB) -> Response:
        item_id = id_or_404(item_id, "Inbox item")
        row = await db.fetchrow(queries.MARK_READ, id=item_id, now=reminders.clock.now())
        if row is None:  # read already, or not found
            row = await db.fetchrow(queries.INBOX_GET, id=item_id)
            if row is None:
                raise HTTPException(status.HTTP_404_NOT_FOUND, "Inbox item not found")
        return json_response(InboxItemOut.model_validate(dict(row)))

    @router.get(
        "/reminders/{reminder_id}",
        name="get",
        summary="Get a reminder",
        response_model=ReminderOut,
        responses=NOT_FOUND,
        description="Answers one of your reminders: when it fires, and whether it fired or was "
        "cancelled.",
    )
    async def get_reminder(reminder_id: ReminderId, db: OwnedDB) -> Response:
        row = await db.fetchrow(queries.GET, id=id_or_404(reminder_id, "Reminder"))
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "Reminder not found")
        return json_response(ReminderOut.of(row))

    @router.delete(
        "/reminders/{reminder_id}",
        name="delete",
        summary="Delete a reminder (its inbox item, if it fired, stays)",
        status_code=status.HTTP_204_NO_CONTENT,
        responses=NOT_FOUND,
        description="Deletes the reminder, so it will not fire; if it fired already, its inbox "
        "item stays.",
    )
    async def delete_reminder(reminder_id: ReminderId, db: OwnedDB) -> Response:
        deleted = await db.fetchval(queries.DELETE, id=id_or_404(reminder_id, "Reminder"))
        if deleted is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "Reminder not found")
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router


def _reminder(row: Any) -> dict[str, Any]:
    values = dict(row)
    values.pop("task")
    return values
