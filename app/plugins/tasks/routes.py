"""Task: T-039
Spec: specs/api/rest-endpoints.md §Tasks

The `/tasks` endpoints. Every database access goes through `OwnedSession`, so each query is
scoped to the caller by the kernel; a task of another user is simply not found (404).
"""

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from app.core import CurrentUser, OwnedSession
from app.plugins.tasks import idempotency, pagination
from app.plugins.tasks.etags import etag, if_match_fails, if_none_match_hits
from app.plugins.tasks.filters import Sort, TaskQuery, conditions
from app.plugins.tasks.models import Task, utcnow
from app.plugins.tasks.schemas import TaskCreate, TaskOut, TaskUpdate
from app.plugins.tasks.settings import TasksSettings

# A write without If-Match that loses a race re-reads and re-applies; this bounds the retries.
ATTEMPTS = 3

router = APIRouter(prefix="/tasks", tags=["tasks"])
PAGE = TypeAdapter(list[TaskOut])
PAGE_COLUMNS = [getattr(Task, name) for name in TaskOut.model_fields]


def tasks_settings(request: Request) -> TasksSettings:
    return request.app.state.context.settings_for("tasks", TasksSettings)


Settings = Annotated[TasksSettings, Depends(tasks_settings)]
IfMatch = Annotated[str | None, Header()]
NOT_FOUND = {404: {"description": "No such task for this user"}}


def _not_found() -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, "Task not found")


def _precondition_failed() -> HTTPException:
    return HTTPException(
        status.HTTP_412_PRECONDITION_FAILED, "Task was changed since the given ETag; fetch it again"
    )


def _body(task: Task) -> dict[str, Any]:
    return TaskOut.model_validate(task).model_dump(mode="json")


def _task_response(task: Task) -> JSONResponse:
    return JSONResponse(_body(task), headers={"ETag": etag(task)})


async def _load(session: AsyncSession, task_id: str) -> Task:
    try:
        uuid.UUID(task_id)
    except ValueError:
        raise _not_found() from None  # a malformed id names no task: 404, not 422
    task = await session.get(Task, task_id, populate_existing=True)
    if task is None:
        raise _not_found()
    return task


def _apply(task: Task, changes: dict[str, Any]) -> bool:
    """Set the fields that differ; False when there are none (nothing is written)."""
    changed = {name: value for name, value in changes.items() if getattr(task, name) != value}
    if not changed:
        return False
    for name, value in changed.items():
        setattr(task, name, value)
    if "completed" in changed:
        task.completed_at = utcnow() if task.completed else None
    task.updated_at = utcnow()
    return True


async def _change(
    session: AsyncSession,
    task_id: str,
    if_match: str | None,
    mutate: Callable[[Task], Awaitable[bool]],
) -> Task:
    """Read, check If-Match, mutate, commit. The ORM's UPDATE/DELETE carries
    `AND version = <read>`: a concurrent writer makes it match nothing (StaleDataError)."""
    for _ in range(ATTEMPTS):
        task = await _load(session, task_id)
        if if_match_fails(if_match, task):
            raise _precondition_failed()
        if not await mutate(task):
            return task
        try:
            await session.commit()
        except StaleDataError:
            await session.rollback()
            if if_match is not None:
                raise _precondition_failed() from None
            continue
        return task
    raise HTTPException(status.HTTP_409_CONFLICT, "Task is being changed concurrently; retry")


@router.get("", response_model=list[TaskOut])
async def list_tasks(
    request: Request,
    session: OwnedSession,
    settings: Settings,
    query: Annotated[TaskQuery, Query()],
) -> Response:
    limit = query.limit or settings.default_page_size
    if limit > settings.max_page_size:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"limit must be at most {settings.max_page_size}"
        )
    sort = Sort.parse(query.sort)
    # Columns, not entities: a page is read-only, and skipping the identity map and the
    # per-row ORM bookkeeping keeps a long page about as cheap as a short one.
    statement = select(*PAGE_COLUMNS).where(*conditions(query)).order_by(*sort.order_by())
    if query.cursor is not None:
        statement = statement.where(sort.after(*pagination.decode(query, sort, query.cursor)))
    # One row more than asked says whether a next page exists.
    rows = (await session.execute(statement.limit(limit + 1))).all()
    headers = {}
    if len(rows) > limit:
        rows = rows[:limit]
        cursor = pagination.encode(query, sort, rows[-1])
        headers["Link"] = pagination.next_link(request.url, cursor)
    page = PAGE.validate_python(rows, from_attributes=True)
    return Response(PAGE.dump_json(page), media_type="application/json", headers=headers)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TaskOut)
async def create_task(
    body: TaskCreate,
    request: Request,
    session: OwnedSession,
    user: CurrentUser,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> Response:
    values = body.model_dump()
    if idempotency_key is not None:
        idempotency.check_key(idempotency_key)
        request_hash = idempotency.body_hash(values)
        if replayed := await idempotency.replay(session, user.id, idempotency_key, request_hash):
            await session.commit()  # keep the purge of expired keys done on the way
            return replayed
    task = Task(**values, completed_at=utcnow() if body.completed else None)
    session.add(task)
    await session.flush()
    headers = {"ETag": etag(task), "Location": request.url_for("get_task", task_id=task.id).path}
    if idempotency_key is not None:
        idempotency.remember(session, idempotency_key, request_hash, 201, _body(task), headers)
    await session.commit()
    return JSONResponse(_body(task), status_code=status.HTTP_201_CREATED, headers=headers)


@router.get("/{task_id}", response_model=TaskOut, responses={304: {}, **NOT_FOUND})
async def get_task(
    task_id: str,
    session: OwnedSession,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    task = await _load(session, task_id)
    if if_none_match_hits(if_none_match, task):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag(task)})
    return _task_response(task)


@router.put("/{task_id}", response_model=TaskOut, responses={412: {}, **NOT_FOUND})
@router.patch("/{task_id}", response_model=TaskOut, responses={412: {}, **NOT_FOUND})
async def update_task(
    task_id: str, body: TaskUpdate, session: OwnedSession, if_match: IfMatch = None
) -> Response:
    changes = body.model_dump(exclude_unset=True)

    async def update(task: Task) -> bool:
        return _apply(task, changes)

    return _task_response(await _change(session, task_id, if_match, update))


@router.patch("/{task_id}/complete", response_model=TaskOut, responses=NOT_FOUND)
async def complete_task(task_id: str, session: OwnedSession) -> Response:
    async def complete(task: Task) -> bool:
        return _apply(task, {"completed": True})

    return _task_response(await _change(session, task_id, None, complete))


@router.delete(
    "/{task_id}", status_code=status.HTTP_204_NO_CONTENT, responses={412: {}, **NOT_FOUND}
)
async def delete_task(task_id: str, session: OwnedSession, if_match: IfMatch = None) -> Response:
    async def delete(task: Task) -> bool:
        await session.delete(task)
        return True

    await _change(session, task_id, if_match, delete)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
