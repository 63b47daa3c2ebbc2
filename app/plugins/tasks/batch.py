"""Task: T-142, T-258, T-279, T-291, T-317, T-318, T-353
Spec: specs/api/rest-endpoints.md §Tasks (`POST /api/v1/tasks/batch`)

Up to 100 task and list operations in one request, inside one transaction, in a number of
statements that does not grow with theirs: list creates, renames and deletes first, then all
task creates in one `INSERT … SELECT`, all updates and completes in one `UPDATE … FROM`, all
deletes in one `DELETE … USING` (each over a JSON array of rows, `queries.*_MANY`,
`list_queries.*_MANY`), then one `SELECT` per kind of row to tell 404 from 412 from "unchanged"
for the operations that matched nothing. Moves come last, one statement each, in order: a move's
key is computed from its new neighbours, which an earlier move may have just placed.

The body is validated whole (a malformed operation is a 422 for the request, as its schema says);
what can only be known by applying an operation (404, 412) fails that operation alone.
Operations never depend on each other: a task may appear in one operation per batch.
A `parent_id` or an `assignee_id` the database refuses (`subtrees`) aborts the statement that
wrote it: that operation becomes its 422, and the batch runs again without it (or, atomic, is
not applied).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from typing import Annotated, Any, Literal

import asyncpg
import orjson
from fastapi import HTTPException, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field

from app.core import (
    EntityTags,
    Executor,
    Row,
    documented,
    if_match_fails,
    is_id,
    matching_versions,
    new_id,
)
from app.plugins.tasks import list_queries, order, queries
from app.plugins.tasks.models import default_list_id, new_task
from app.plugins.tasks.schemas import (
    EXAMPLE_ETAG,
    EXAMPLE_ID,
    EXAMPLE_LIST_ID,
    Id,
    Name,
    TaskCreate,
    TaskUpdate,
)
from app.plugins.tasks.subtrees import Refusal
from app.plugins.tasks.writes import Operation as Write
from app.plugins.tasks.writes import TaskWrites, Unit

MAX_OPERATIONS = 100
EXAMPLE_PARENT_ID = "9b7e2d4c-1a3f-4c5e-8d6b-2f0a1c3e5b7d"
EXAMPLE_SIBLING_ID = "0d4e6f8a-2b1c-4d3e-9f5a-7c6b8e0d2f1a"
EXAMPLE_LIST_ETAG = f'"{EXAMPLE_LIST_ID}.2"'
JSON_OPTIONS = orjson.OPT_UTC_Z


class _Operation(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateOperation(_Operation):
    """Create a task, as `POST /tasks` does."""

    model_config = documented({"op": "create", "task": {"title": "Buy milk"}}, extra="forbid")

    op: Literal["create"]
    """`create`: which operation this is."""
    task: TaskCreate
    """The new task, as `POST /tasks` takes it."""


class UpdateOperation(_Operation):
    """Change the fields given, as `PATCH /tasks/{id}` does."""

    model_config = documented(
        {
            "op": "update",
            "id": EXAMPLE_ID,
            "changes": {"priority": "high"},
            "if_match": EXAMPLE_ETAG,
        },
        extra="forbid",
    )

    op: Literal["update"]
    """`update`: which operation this is."""
    id: str
    """The task's id; one that names no task of yours, or is no UUID, is a 404 result."""
    changes: TaskUpdate
    """The fields to change, as `PATCH /tasks/{id}` takes them."""
    if_match: EntityTags | None = Field(None, max_length=1000)
    """Apply only if this is the task's current `ETag` (`If-Match` syntax: `*` or quoted tags,
    else a 422); otherwise 412."""


class CompleteOperation(_Operation):
    """Mark a task completed, as `PATCH /tasks/{id}/complete` does."""

    model_config = documented({"op": "complete", "id": EXAMPLE_ID}, extra="forbid")

    op: Literal["complete"]
    """`complete`: which operation this is."""
    id: str
    """The task's id; one that names no task of yours, or is no UUID, is a 404 result."""


class DeleteOperation(_Operation):
    """Delete a task, as `DELETE /tasks/{id}` does."""

    model_config = documented(
        {"op": "delete", "id": EXAMPLE_ID, "if_match": EXAMPLE_ETAG}, extra="forbid"
    )

    op: Literal["delete"]
    """`delete`: which operation this is."""
    id: str
    """The task's id; one that names no task of yours, or is no UUID, is a 404 result."""
    if_match: EntityTags | None = Field(None, max_length=1000)
    """Delete only if this is the task's current `ETag` (`If-Match` syntax: `*` or quoted tags,
    else a 422); otherwise 412."""


class MoveOperation(order.TaskMove):
    """Place a task, as `POST /tasks/{id}/move` does: into `list_id` (default: its own list),
    under `parent_id`, right after `after` or right before `before` (null: the start, the end;
    neither: the end)."""

    model_config = documented(
        {"op": "move", "id": EXAMPLE_ID, "list_id": EXAMPLE_LIST_ID, "after": EXAMPLE_SIBLING_ID},
        {
            "op": "move",
            "id": EXAMPLE_ID,
            "parent_id": EXAMPLE_PARENT_ID,
            "before": EXAMPLE_SIBLING_ID,
        },
        extra="forbid",
    )

    op: Literal["move"]
    """`move`: which operation this is."""
    id: str
    """The task's id; one that names no task of yours, or is no UUID, is a 404 result."""
    parent_id: Id | None = None
    """The task it becomes a subtask of, as on `POST /tasks/{id}/move`."""


class ListCreateOperation(_Operation):
    """Create a list after your others, as `POST /lists` does."""

    model_config = documented({"op": "list_create", "name": "Groceries"}, extra="forbid")

    op: Literal["list_create"]
    """`list_create`: which operation this is."""
    name: Name
    """Its name: 1 to 200 characters, surrounding whitespace trimmed."""


class ListUpdateOperation(_Operation):
    """Rename a list, as `PATCH /lists/{id}` does."""

    model_config = documented(
        {
            "op": "list_update",
            "id": EXAMPLE_LIST_ID,
            "name": "Weekly groceries",
            "if_match": EXAMPLE_LIST_ETAG,
        },
        extra="forbid",
    )

    op: Literal["list_update"]
    """`list_update`: which operation this is."""
    id: str
    """The list's id; one that names no list of yours, or is no UUID, is a 404 result."""
    name: Name
    """Its new name: 1 to 200 characters, surrounding whitespace trimmed."""
    if_match: EntityTags | None = Field(None, max_length=1000)
    """Rename only if this is the list's current `ETag` (`If-Match` syntax); otherwise 412."""


class ListDeleteOperation(_Operation):
    """Delete a list and its tasks, as `DELETE /lists/{id}` does; your default list cannot be
    deleted (a 409 result)."""

    model_config = documented(
        {"op": "list_delete", "id": EXAMPLE_LIST_ID, "if_match": EXAMPLE_LIST_ETAG},
        extra="forbid",
    )

    op: Literal["list_delete"]
    """`list_delete`: which operation this is."""
    id: str
    """The list's id; one that names no list of yours, or is no UUID, is a 404 result."""
    if_match: EntityTags | None = Field(None, max_length=1000)
    """Delete only if this is the list's current `ETag` (`If-Match` syntax); otherwise 412."""


Operation = Annotated[
    CreateOperation
    | UpdateOperation
    | CompleteOperation
    | DeleteOperation
    | MoveOperation
    | ListCreateOperation
    | ListUpdateOperation
    | ListDeleteOperation,
    Field(discriminator="op"),
]
LIST_OPERATIONS = (ListCreateOperation, ListUpdateOperation, ListDeleteOperation)


class BatchRequest(BaseModel):
    """Operations applied together: all or nothing, unless `atomic` is false."""

    model_config = documented(
        {
            "atomic": True,
            "operations": [
                {"op": "create", "task": {"title": "Buy milk"}},
                {"op": "complete", "id": EXAMPLE_ID},
            ],
        },
        extra="forbid",
    )

    atomic: bool = True
    """`true`: if any operation fails, none is applied; `false`: each stands alone."""
    operations: list[Operation] = Field(min_length=1, max_length=MAX_OPERATIONS)
    """1 to 100 operations; a task or list may be named by one operation only."""


class Result(BaseModel):
    """What one operation answered: the status and body its single route would have."""

    model_config = documented({"status": 201, "body": {"id": EXAMPLE_ID, "title": "Buy milk"}})

    status: int
    """201 (created), 200 (updated, completed, moved or unchanged), 204 (deleted), or a
    problem's status: 404, 409 (the default list), 412, 422, 424 (not applied: another operation
    of an atomic batch failed)."""
    body: dict[str, Any] | None
    """The task or list, a problem (`type`, `title`, `status`, `detail`), or null for a
    delete."""


class BatchResponse(BaseModel):
    """One result per operation, in the order of the operations."""

    model_config = documented({"results": [{"status": 201, "body": {"id": EXAMPLE_ID}}]})

    results: list[Result]
    """The operations' results, in order."""


@dataclass
class Outcome:
    """What became of one operation: its status, body, and the change to tell subscribers."""

    status: int
    body: Mapping[str, Any] | None
    change: tuple[Write, Row] | None = None  # what it wrote, and the row

    @property
    def failed(self) -> bool:
        return self.status >= 400

    def result(self) -> dict[str, Any]:
        return {"status": self.status, "body": self.body}


def problem(code: int, detail: str, **extra: Any) -> Outcome:
    body = {"type": "about:blank", "title": HTTPStatus(code).phrase, "status": code}
    return Outcome(code, body | {"detail": detail, **extra})


NO_SUCH_LIST = problem(
    422,
    "The list is not one of yours",
    errors=[{"loc": ["task", "list_id"], "msg": "not one of your lists", "type": "value_error"}],
)


def _noun(operation: Any) -> str:
    return "List" if isinstance(operation, LIST_OPERATIONS) else "Task"


def parse(operations: Sequence[Any]) -> list[Any]:
    """The operations to apply, each in place of the 404 or 422 `Outcome` of one that cannot be:
    an id that is not a UUID (no task or list, as on the single routes), or a task or list named
    by an earlier operation (operations never depend on each other's order)."""
    parsed: list[Any] = []
    named: set[str] = set()
    for operation in operations:
        task_id = getattr(operation, "id", None)
        if task_id is not None:
            if not is_id(task_id):
                parsed.append(problem(404, f"{_noun(operation)} not found"))
                continue
            if task_id in named:
                parsed.append(
                    problem(
                        422,
                        f"The {_noun(operation).lower()} is named by an earlier operation",
                        errors=[
                            {
                                "loc": ["id"],
                                "msg": "named by an earlier operation of this batch",
                                "type": "duplicate",
                            }
                        ],
                    )
                )
                continue
            named.add(task_id)
        parsed.append(operation)
    return parsed


def _json_rows(rows: list[dict[str, Any]]) -> list[Any]:
    # The driver's JSON encoder takes JSON values only: datetimes and enums as strings.
    values: list[Any] = orjson.loads(orjson.dumps(rows))
    return values


def _edit_row(task_id: str, fields: Mapping[str, Any], if_match: str | None) -> dict[str, Any]:
    row: dict[str, Any] = {"id": task_id, "versions": matching_versions(if_match, task_id)}
    for name in queries.UPDATABLE:
        row[f"set_{name}"] = name in fields
        row[name] = fields.get(name)
    return row


async def execute(unit: Unit, operations: Sequence[Any], now: datetime) -> list[Outcome]:
    """Apply the valid `operations` through `unit` (positions of failed parses keep their
    `Outcome`); one outcome per operation, in order."""
    outcomes: list[Outcome | None] = [op if isinstance(op, Outcome) else None for op in operations]
    creates: dict[int, dict[str, Any]] = {}
    edits, deletes = [], []
    assert unit.db.owner is not None
    await _apply_to_lists(unit.db, operations, outcomes, now)
    for index, op in enumerate(operations):
        if isinstance(op, CreateOperation):
            creates[index] = new_task(op.task.model_dump(), unit.db.owner, now) | {"n": index}
        elif isinstance(op, UpdateOperation):
            edits.append(_edit_row(op.id, op.changes.model_dump(exclude_unset=True), op.if_match))
        elif isinstance(op, CompleteOperation):
            edits.append(_edit_row(op.id, {"completed": True}, None))
        elif isinstance(op, DeleteOperation):
            deletes.append({"id": op.id, "versions": matching_versions(op.if_match, op.id)})

    try:
        if creates:
            rows = await unit.db.fetch(
                queries.CREATE_MANY,
                rows=_json_rows(list(creates.values())),
                list_id=default_list_id(unit.db.owner),
                now=now,
            )
            created = {row["id"]: row for row in rows}
            for index, task in creates.items():
                row = created.get(task["id"])
                outcomes[index] = (
                    Outcome(201, dict(row), ("create", row)) if row is not None else NO_SUCH_LIST
                )
        changed = {}
        if edits:
            rows = await unit.db.fetch(queries.UPDATE_MANY, rows=_json_rows(edits), now=now)
            changed = {row["id"]: row for row in rows}
        deleted = {}
        if deletes:
            rows = await unit.db.fetch(queries.DELETE_MANY, rows=_json_rows(deletes))
            deleted = {row["id"]: row for row in rows}
        for index, op in enumerate(operations):
            if isinstance(op, MoveOperation):
                outcomes[index] = await _move(unit.db, op, now)
    except asyncpg.CheckViolationError as exc:
        refusal = Refusal.of(exc)
        if refusal is None:
            raise
        raise Refused(*_refused(operations, list(creates.values()), refusal)) from None

    missed = []
    for index, op in enumerate(operations):
        if isinstance(op, UpdateOperation | CompleteOperation) and op.id in changed:
            row = changed[op.id]
            outcomes[index] = Outcome(200, dict(row), ("update", row))
        elif isinstance(op, DeleteOperation) and op.id in deleted:
            outcomes[index] = Outcome(204, None, ("delete", deleted[op.id]))
        elif outcomes[index] is None:
            missed.append(index)
    if missed:
        ids = [operations[index].id for index in missed]
        current = {row["id"]: row for row in await unit.db.fetch(queries.GET_MANY, ids=ids)}
        for index in missed:
            outcomes[index] = _unchanged(operations[index], current.get(operations[index].id))
    return [outcome for outcome in outcomes if outcome is not None]


async def _apply_to_lists(
    db: Executor, operations: Sequence[Any], outcomes: list[Outcome | None], now: datetime
) -> None:
    """The list operations' statements (creates, renames, deletes: one each, when there are
    any, then one `SELECT` for those that matched nothing), their outcomes set in place."""
    creates: dict[int, dict[str, Any]] = {}
    renames, deletes = [], []
    for index, op in enumerate(operations):
        if isinstance(op, ListCreateOperation):
            creates[index] = {"id": new_id(), "name": op.name, "n": index}
        elif isinstance(op, ListUpdateOperation):
            versions = matching_versions(op.if_match, op.id)
            renames.append({"id": op.id, "name": op.name, "versions": versions})
        elif isinstance(op, ListDeleteOperation):
            deletes.append({"id": op.id, "versions": matching_versions(op.if_match, op.id)})
    written: dict[str, Row] = {}
    if creates:
        assert db.owner is not None
        rows = await db.fetch(
            list_queries.CREATE_MANY,
            rows=list(creates.values()),
            list_id=default_list_id(db.owner),
            now=now,
        )
        written |= {row["id"]: row for row in rows}
        for index, made in creates.items():
            outcomes[index] = Outcome(201, dict(written[made["id"]]))
    if renames:
        rows = await db.fetch(list_queries.RENAME_MANY, rows=renames, now=now)
        written |= {row["id"]: row for row in rows}
    if deletes:
        rows = await db.fetch(list_queries.DELETE_MANY, rows=deletes)
        written |= {row["id"]: row for row in rows}
    missed = []
    for index, op in enumerate(operations):
        if isinstance(op, ListUpdateOperation | ListDeleteOperation):
            if op.id not in written:
                missed.append(index)
            elif isinstance(op, ListUpdateOperation):
                outcomes[index] = Outcome(200, dict(written[op.id]))
            else:
                outcomes[index] = Outcome(204, None)
    if missed:
        ids = [operations[index].id for index in missed]
        current = {row["id"]: row for row in await db.fetch(list_queries.GET_MANY, ids=ids)}
        for index in missed:
            outcomes[index] = _list_unchanged(operations[index], current.get(operations[index].id))


def _list_unchanged(op: Any, found: Row | None) -> Outcome:
    """Why a list's rename or delete matched nothing, as the single routes answer it."""
    if found is None:
        return problem(404, "List not found")
    if isinstance(op, ListDeleteOperation) and found["is_default"]:
        return problem(409, "Your default list cannot be deleted")
    if if_match_fails(op.if_match, found["id"], found["version"]) or isinstance(
        op, ListDeleteOperation
    ):
        return problem(412, "List was changed since the given ETag; fetch it again")
    return Outcome(200, dict(found))  # the same name: the list as it is


async def _move(db: Executor, op: MoveOperation, now: datetime) -> Outcome:
    """A move, by the statement `POST /tasks/{id}/move` sends; when it matches nothing, why, as
    that route answers it (404, or a 422 naming the list or the neighbour)."""
    place = order.Place.of(op)
    moved = await db.fetchrow(order.move_task(place), id=op.id, now=now, **place.parameters(op))
    if moved is not None:
        return Outcome(200, dict(moved), ("update", moved))
    task = await db.fetchrow(queries.GET, id=op.id)
    if task is None:
        return problem(404, "Task not found")
    try:
        await order.why_unmoved(db, task, place, op)
    except RequestValidationError as exc:
        [error] = exc.errors()
        return _invalid([error["loc"][-1]], error["msg"], error["type"])
    raise AssertionError("misplaced says why a move matched nothing")


class Refused(Exception):
    """An operation's `parent_id` or `assignee_id` was refused: the statement, and so the
    transaction, failed."""

    def __init__(self, index: int, outcome: Outcome) -> None:
        self.index = index
        self.outcome = outcome


def _refused(
    operations: Sequence[Any], creates: Sequence[Mapping[str, Any]], refusal: Refusal
) -> tuple[int, Outcome]:
    """The operation `refusal` is for (by its task's id; a create's is the one just chosen)
    and its 422, naming the field where the operation carries it."""
    created = iter(creates)
    for index, op in enumerate(operations):
        if isinstance(op, CreateOperation):
            if next(created)["id"] == refusal.task_id:
                return index, _invalid_refused(["task", refusal.field], refusal)
        elif getattr(op, "id", None) == refusal.task_id and not isinstance(op, Outcome):
            where = [] if isinstance(op, MoveOperation) else ["changes"]
            return index, _invalid_refused([*where, refusal.field], refusal)
    raise AssertionError("a refused field belongs to an operation of the batch")


def _invalid_refused(loc: list[str], refusal: Refusal) -> Outcome:
    return _invalid(loc, refusal.message, refusal.field)


def _invalid(loc: list[str], msg: str, type: str) -> Outcome:
    """A 422 result naming the operation's field `loc`."""
    error = {"loc": loc, "msg": msg, "type": type}
    return problem(422, f"Invalid operation: {'.'.join(loc)}: {msg}", errors=[error])


def _unchanged(op: Any, task: Row | None) -> Outcome:
    """Why an update, complete or delete matched nothing, as the single routes answer it."""
    if task is None:
        return problem(404, "Task not found")
    if if_match_fails(getattr(op, "if_match", None), task["id"], task["version"]) or isinstance(
        op, DeleteOperation
    ):
        return problem(412, "Task was changed since the given ETag; fetch it again")
    return Outcome(200, dict(task))  # nothing to change: the task as it is


async def tell(unit: Unit, outcomes: list[Outcome]) -> int | None:
    """Tell the in-transaction subscribers of each row the batch's statements returned, in
    operation order; the index of the operation a subscriber refused (an `HTTPException`,
    which becomes its outcome), else None."""
    for index, outcome in enumerate(outcomes):
        if outcome.change is not None:
            try:
                await unit.tell(*outcome.change)
            except HTTPException as exc:
                detail = exc.detail if isinstance(exc.detail, str) else "Refused"
                outcomes[index] = problem(exc.status_code, detail)
                return index
    return None


def not_applied(outcomes: list[Outcome]) -> list[Outcome]:
    """An atomic batch that failed: the failures as they are, every other operation 424."""
    first = next(index for index, outcome in enumerate(outcomes) if outcome.failed)
    detail = f"Not applied: operation {first} failed and the batch is atomic"
    return [
        outcome if outcome.failed else problem(status.HTTP_424_FAILED_DEPENDENCY, detail)
        for outcome in outcomes
    ]


class Rollback(Exception):
    """Leave the batch's transaction without committing: `outcomes` are the answer (None: the
    key was claimed already, replay its response), or `again` to run the batch once more."""

    def __init__(self, outcomes: list[Outcome] | None = None, again: bool = False) -> None:
        self.outcomes = outcomes
        self.again = again


async def run(
    writes: TaskWrites,
    db: Executor,
    request: BatchRequest,
    now: datetime,
    claim: Mapping[str, Any] | None,
) -> list[Outcome] | None:
    """The batch in one transaction: its outcomes, committed (an atomic batch with a failure:
    nothing committed, `not_applied`); None when `claim` (an `Idempotency-Key`'s parameters)
    finds the key taken. A non-atomic batch whose subscriber refuses an operation runs again
    without it, so each operation stands alone."""
    operations = parse(request.operations)
    while True:
        try:
            async with writes.unit(db, atomic=True) as unit:
                outcomes = await execute(unit, operations, now)
                refused = await tell(unit, outcomes)
                if request.atomic and any(outcome.failed for outcome in outcomes):
                    raise Rollback(not_applied(outcomes))
                if refused is not None:
                    operations[refused] = outcomes[refused]
                    raise Rollback(again=True)
                if claim is not None:
                    body = orjson.loads(orjson.dumps(response(outcomes), option=JSON_OPTIONS))
                    if await unit.db.fetchval(queries.CLAIM, body=body, **claim) is None:
                        raise Rollback(None)
                return outcomes
        except Rollback as rollback:
            if not rollback.again:
                return rollback.outcomes
        except Refused as refused:
            operations[refused.index] = refused.outcome
            if request.atomic:
                return not_applied(
                    [op if isinstance(op, Outcome) else Outcome(0, None) for op in operations]
                )


def response(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    return {"results": [outcome.result() for outcome in outcomes]}
