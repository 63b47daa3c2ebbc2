"""Task: T-039, T-111, T-138, T-142, T-150, T-151, T-258, T-279, T-281, T-284, T-313
Spec: specs/api/rest-endpoints.md §Tasks, §Order, §One round trip; specs/features/plugins.md §Events

The `/tasks` endpoints. Every statement goes through `OwnedDB`, writes through a `Unit` of it
(`writes`), so each one is scoped to the caller by the kernel; a task of another user is simply
not found (404). Each request's normal path sends one statement (`queries`); responses are
serialised once, straight to bytes. Every write is told to the in-transaction subscribers of
tasks from the write itself; the unit is a transaction only when one wants it.
"""

from typing import Annotated, Any

import asyncpg
import orjson
from fastapi import APIRouter, Header, HTTPException, Path, Request, Response, status

from app.core import (
    ENTITY_TAGS_PATTERN,
    ETAG,
    IDEMPOTENT_REPLAYED,
    KEEP_KEYS_FOR,
    LINK,
    LOCATION,
    Context,
    Executor,
    IdempotencyKeyHeader,
    OwnedDB,
    QueryParameters,
    etag,
    id_or_404,
    if_match_fails,
    if_none_match_hits,
    invalid,
    json_bytes,
    json_response,
    matching_versions,
    one_or_404,
    page_size,
    replay_stored,
    request_hash,
    utcnow,
)
from app.plugins.tasks import batch, order, pagination, queries
from app.plugins.tasks.filters import Shape, TaskQuery, parameters, statement
from app.plugins.tasks.models import new_task
from app.plugins.tasks.schemas import EXAMPLE_ETAG, EXAMPLE_ID, TaskCreate, TaskOut, TaskUpdate
from app.plugins.tasks.settings import TasksSettings
from app.plugins.tasks.writes import TaskWrites

TaskId = Annotated[
    str,
    Path(
        description="The task's id; one that names no task of yours, or is no UUID, is a 404",
        examples=[EXAMPLE_ID],
    ),
]
IfMatch = Annotated[
    str | None,
    Header(
        description="Change the task only if this is its current `ETag` (`*`: any version); "
        'otherwise 412 and nothing changes. Not `*` nor quoted tags (`"…"`): 422',
        examples=[EXAMPLE_ETAG],
        # Documented here, checked by the kernel's helpers with a 422 naming the header.
        json_schema_extra={"pattern": ENTITY_TAGS_PATTERN},
    ),
]
IfNoneMatch = Annotated[
    str | None,
    Header(
        description="The `ETag` you have: while it is current, 304 with no body. Not `*` nor "
        'quoted tags (`"…"`): 422',
        examples=[EXAMPLE_ETAG],
        json_schema_extra={"pattern": ENTITY_TAGS_PATTERN},
    ),
]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such task of yours (or the id is no UUID)"}
}
STALE: dict[int | str, dict[str, Any]] = {
    412: {"description": "`If-Match` names no current tag: the task is unchanged"}
}
TASK: dict[int | str, dict[str, Any]] = {200: {"headers": ETAG}}
TASK_QUERY = QueryParameters(TaskQuery)
# The fields a move sets: what in-transaction subscribers of moves name (`fields`).
MOVING = frozenset({"list_id", "parent_id", "position"})


def _precondition_failed() -> HTTPException:
    return HTTPException(
        status.HTTP_412_PRECONDITION_FAILED, "Task was changed since the given ETag; fetch it again"
    )


def tagged_response(row: Any, status_code: int = 200, **headers: str) -> Response:
    """A task or a list as the body, with its `ETag`."""
    return json_response(
        dict(row), status_code, {"ETag": etag(row["id"], row["version"]), **headers}
    )


def tagged_unless_current(row: Any, if_none_match: str | None) -> Response:
    """A task or a list with its `ETag`, or a 304 with no body when `If-None-Match` names it."""
    if if_none_match_hits(if_none_match, row["id"], row["version"]):
        tag = etag(row["id"], row["version"])
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers={"ETag": tag})
    return tagged_response(row)


async def _unchanged(db: Executor, task_id: str, if_match: str | None) -> Response:
    """A write matched no row: say why (404, 412) or answer the task as it is."""
    task = one_or_404(await db.fetchrow(queries.GET, id=task_id), "Task")
    if if_match_fails(if_match, task["id"], task["version"]):
        raise _precondition_failed()
    return tagged_response(task)


def build_router(context: Context) -> APIRouter:
    router = APIRouter(prefix="/tasks", tags=["tasks"])
    settings = context.settings_for("tasks", TasksSettings)
    writes = TaskWrites.of(context)

    @router.get(
        "",
        name="list",
        summary="List your tasks, a page at a time",
        response_model=list[TaskOut],
        responses={200: {"headers": LINK}},
        openapi_extra=TASK_QUERY.openapi,
        description="Answers your tasks, filtered and sorted as the query parameters say, one page "
        "at a time (`limit`, default 50). Follow the `Link` header (`rel=next`) as is until a page "
        "has none.",
    )
    async def list_tasks(request: Request, db: OwnedDB) -> Response:
        query = TASK_QUERY.parse(request)
        limit = page_size(query.limit, settings.default_page_size, settings.max_page_size)
        after = pagination.decode(query, query.cursor) if query.cursor is not None else None
        shape = Shape.of(query, after[0] if after else None)
        rows = await db.fetch(statement(shape), **parameters(query, limit, after))
        headers = {}
        if len(rows) > limit:
            rows = rows[:limit]
            headers["Link"] = pagination.next_link(request.url, pagination.encode(query, rows[-1]))
        return json_response(rows, headers=headers)

    @router.post(
        "",
        name="create",
        summary="Create a task",
        status_code=status.HTTP_201_CREATED,
        response_model=TaskOut,
        responses={
            201: {"headers": LOCATION | ETAG | IDEMPOTENT_REPLAYED},
            409: {
                "description": "The `Idempotency-Key` expired between its claim and its replay: retry"
            },
        },
        description="Creates a task and answers it with its `ETag` and `Location`. With an "
        "`Idempotency-Key`, a retry of the same request within 24 hours gets the first answer "
        "again and creates nothing.",
    )
    async def create_task(
        body: TaskCreate,
        request: Request,
        db: OwnedDB,
        idempotency_key: IdempotencyKeyHeader,
    ) -> Response:
        values = body.model_dump()
        now = utcnow()
        assert db.owner is not None
        task = new_task(values, db.owner, now)
        headers = {
            "ETag": etag(task["id"], task["version"]),
            "Location": f"{request.url.path}/{task['id']}",
        }
        try:
            async with writes.unit(db, "create") as unit:
                if idempotency_key is None:
                    created = await unit.write(queries.CREATE, **task)
                    if created is None:  # the kernel retried an insert that had made its row
                        created = await unit.db.fetchrow(queries.GET, id=task["id"])
                    return tagged_response(created, status.HTTP_201_CREATED, **headers)
                body_hash = request_hash(values)
                created = await unit.write(
                    queries.CREATE_ONCE,
                    key=idempotency_key,
                    request_hash=body_hash,
                    status_code=status.HTTP_201_CREATED,
                    body=orjson.loads(json_bytes(task)),
                    headers=headers,
                    expired_before=now - KEEP_KEYS_FOR,
                    now=now,
                    **task,
                )
                if created is not None:
                    return tagged_response(created, status.HTTP_201_CREATED, **headers)
                stored = await unit.db.fetchrow(queries.STORED_RESPONSE, key=idempotency_key)
        except asyncpg.ForeignKeyViolationError as error:
            if error.constraint_name == queries.LIST_KEY:
                raise invalid(("body", "list_id"), "Not one of your lists") from None
            raise
        return replay_stored(stored, body_hash)

    @router.post(
        "/batch",
        name="batch",
        summary="Apply up to 100 task and list operations at once",
        response_model=batch.BatchResponse,
        responses={
            200: {"headers": IDEMPOTENT_REPLAYED},
            409: {
                "description": "The `Idempotency-Key` expired between its claim and its replay: retry"
            },
        },
        description="Applies up to 100 task creates, updates, completes, deletes and moves, and "
        "list creates, renames and deletes, in one transaction and answers one result per "
        "operation, in order, each as the single route would. Atomic "
        "by default (one failing operation applies none); with `atomic: false` each operation "
        "stands alone.",
    )
    async def batch_tasks(
        body: batch.BatchRequest, db: OwnedDB, idempotency_key: IdempotencyKeyHeader
    ) -> Response:
        now = utcnow()
        body_hash = request_hash({"batch": body.model_dump()})
        claim = None
        if idempotency_key is not None:
            claim = {
                "key": idempotency_key,
                "request_hash": body_hash,
                "status_code": status.HTTP_200_OK,
                "headers": {},
                "expired_before": now - KEEP_KEYS_FOR,
                "now": now,
            }
        outcomes = await batch.run(writes, db, body, now, claim)
        if outcomes is None:  # the key was taken: its first response
            return replay_stored(
                await db.fetchrow(queries.STORED_RESPONSE, key=idempotency_key), body_hash
            )
        return json_response(batch.response(outcomes))

    @router.get(
        "/{task_id}",
        name="get",
        summary="Get a task",
        response_model=TaskOut,
        responses={
            **TASK,
            304: {"description": "`If-None-Match` names the current tag: no body", "headers": ETAG},
            **NOT_FOUND,
        },
        description="Answers one of your tasks with its `ETag`. With `If-None-Match` naming the "
        "current tag, a 304 with no body instead.",
    )
    async def get_task(task_id: TaskId, db: OwnedDB, if_none_match: IfNoneMatch = None) -> Response:
        task = one_or_404(await db.fetchrow(queries.GET, id=id_or_404(task_id, "Task")), "Task")
        return tagged_unless_current(task, if_none_match)

    @router.put(
        "/{task_id}",
        name="put",
        summary="Change a task (the fields sent, like PATCH)",
        response_model=TaskOut,
        responses={**TASK, **NOT_FOUND, **STALE},
        description="Changes the fields sent and keeps the others (the same as PATCH), answering "
        "the task with its new `ETag`. With `If-Match`, only if that is the current tag; "
        "otherwise 412 and nothing changes.",
    )
    @router.patch(
        "/{task_id}",
        name="update",
        summary="Change a task (the fields sent)",
        response_model=TaskOut,
        responses={**TASK, **NOT_FOUND, **STALE},
        description="Changes the fields sent and keeps the others, answering the task with its "
        "new `ETag`. With `If-Match`, only if that is the current tag; otherwise 412 and nothing "
        "changes.",
    )
    async def update_task(
        task_id: TaskId, body: TaskUpdate, db: OwnedDB, if_match: IfMatch = None
    ) -> Response:
        task_id = id_or_404(task_id, "Task")
        changes = body.model_dump(exclude_unset=True)
        versions = matching_versions(if_match, task_id)  # a malformed header: 422 before all
        if not changes:
            return await _unchanged(db, task_id, if_match)
        params = {"versions": versions} if versions is not None else {}
        async with writes.unit(db, "update", changes) as unit:
            task = await unit.write(
                queries.update_statement(frozenset(changes), versions is not None),
                id=task_id,
                now=utcnow(),
                **changes,
                **params,
            )
            if task is None:
                return await _unchanged(unit.db, task_id, if_match)
        return tagged_response(task)

    @router.patch(
        "/{task_id}/complete",
        name="complete",
        summary="Mark a task completed (idempotent)",
        response_model=TaskOut,
        responses={**TASK, **NOT_FOUND},
        description="Marks the task completed and sets `completed_at`, answering the task. On a "
        "completed task it changes nothing, not even its `version` or `ETag`.",
    )
    async def complete_task(task_id: TaskId, db: OwnedDB) -> Response:
        task_id = id_or_404(task_id, "Task")
        async with writes.unit(db, "update", queries.COMPLETING) as unit:
            task = await unit.write(queries.COMPLETE, id=task_id, now=utcnow())
            if task is None:  # already completed (idempotent), or not found
                return await _unchanged(unit.db, task_id, None)
        return tagged_response(task)

    @router.post(
        "/{task_id}/move",
        name="move",
        summary="Move a task among its siblings, under another parent or to another list",
        response_model=TaskOut,
        responses={**TASK, **NOT_FOUND},
        description="Places the task under `parent_id` (null: the top level; omitted: its own "
        "parent, or the top level of another list it moves to) in `list_id` (default: the "
        "parent's list, else its own), right after `after` or right before `before`, its "
        "siblings there (null: the start, the end; neither: the end), changing no other task; "
        "its subtasks follow it. A list, parent or neighbour that is not yours, a neighbour not "
        "a sibling there or the task itself, a list that is not the parent's, a cycle, or a "
        "depth beyond 4 is a 422 naming the field.",
    )
    async def move_task(task_id: TaskId, body: order.TaskMove, db: OwnedDB) -> Response:
        task_id = id_or_404(task_id, "Task")
        place = order.Place.of(body)
        async with writes.unit(db, "update", MOVING) as unit:
            moved = await unit.write(
                order.move_task(place), id=task_id, now=utcnow(), **place.parameters(body)
            )
            if moved is None:
                task = one_or_404(await unit.db.fetchrow(queries.GET, id=task_id), "Task")
                await order.why_unmoved(unit.db, task, place, body)
        return tagged_response(moved)

    @router.delete(
        "/{task_id}",
        name="delete",
        summary="Delete a task",
        status_code=status.HTTP_204_NO_CONTENT,
        responses={**NOT_FOUND, **STALE},
        description="Deletes the task. With `If-Match`, only if that is the current tag; "
        "otherwise 412 and nothing is deleted.",
    )
    async def delete_task(task_id: TaskId, db: OwnedDB, if_match: IfMatch = None) -> Response:
        task_id = id_or_404(task_id, "Task")
        versions = matching_versions(if_match, task_id)
        async with writes.unit(db, "delete") as unit:
            if versions is None:
                deleted = await unit.write(queries.DELETE, id=task_id)
            else:
                deleted = await unit.write(queries.DELETE_IF_MATCH, id=task_id, versions=versions)
            if deleted is None:
                await _unchanged(unit.db, task_id, if_match)  # 404, or 412 for a stale tag
                raise _precondition_failed()  # the tag matched, but the task changed meanwhile
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router
