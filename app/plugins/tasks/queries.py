"""Task: T-093, T-142, T-271, T-291
Spec: specs/api/rest-endpoints.md §Tasks, §One round trip

The statements the task routes send, each built once. The kernel scopes every one of them to
the caller (`user_id = :owner` is added, or stamped on INSERT), so none mentions the user.

Each request's normal path is one statement: a write carries its own preconditions (`If-Match`
as `version = ANY(:versions)`, "something changes" as `IS DISTINCT FROM`) and returns the row.
Only when it matches nothing does the route read the row to tell 404 from 412 from "unchanged".
Every write may safely run twice (the kernel retries once on a dropped connection): a create's
id is chosen before sending (`ON CONFLICT (id) DO NOTHING`), and updates set values rather than
add to them, so applying one again matches nothing.
"""

from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    DateTime,
    Integer,
    Text,
    Update,
    and_,
    any_,
    bindparam,
    case,
    column,
    delete,
    exists,
    func,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, insert
from sqlalchemy.sql.dml import ReturningInsert
from sqlmodel import col

from app.plugins.tasks.models import IdempotencyKey, Task
from app.plugins.tasks.schemas import COLUMNS

ID = bindparam("id")
NOW = bindparam("now", type_=DateTime(timezone=True))
VERSIONS = bindparam("versions")
# Every column a create writes, as bind parameters of the same names.
WRITTEN = [column for column in COLUMNS if column.key != "user_id"]

GET = select(*COLUMNS).where(Task.id == ID)

CREATE = (
    insert(Task)
    .values({column.key: bindparam(column.key, type_=column.type) for column in WRITTEN})
    .on_conflict_do_nothing(index_elements=[Task.id])
)


def create_when(found: ColumnElement[bool]) -> ReturningInsert[tuple[str]]:
    """CREATE's row, inserted only when `found` holds (a CTE of the same statement found its
    row), `RETURNING` the id: the insert of a statement that does something else first."""
    values = select(*(bindparam(column.key, type_=column.type) for column in WRITTEN))
    return (
        insert(Task)
        .from_select([column.key for column in WRITTEN], values.where(found))
        .returning(col(Task.id))
    )


# The fields COMPLETE sets: what in-transaction subscribers of completions name (`fields`).
COMPLETING = frozenset({"completed", "completed_at"})
COMPLETE = (
    update(Task)
    .where(Task.id == ID, not_(Task.completed))
    .values(completed=True, completed_at=NOW, updated_at=NOW, version=Task.version + 1)
    .returning(*COLUMNS)
)

DELETE = delete(Task).where(Task.id == ID).returning(Task.id, Task.version)
DELETE_IF_MATCH = DELETE.where(Task.version == any_(VERSIONS))


@lru_cache(maxsize=256)
def update_statement(fields: frozenset[str], if_match: bool) -> Update:
    """Set `fields` (bind parameters of the same names) when any of them differs."""
    values: dict[str, Any] = {}
    differs = []
    for name in sorted(fields):
        column = Task.__table__.c[name]  # type: ignore[attr-defined]
        value = bindparam(name, type_=column.type)
        values[name] = value
        differs.append(column.is_distinct_from(value))
    if "completed" in fields:
        completed = bindparam("completed", type_=Boolean)
        values["completed_at"] = case(
            (Task.completed.is_distinct_from(completed), case((completed, NOW), else_=None)),
            else_=Task.completed_at,
        )
    statement = (
        update(Task)
        .where(Task.id == ID, or_(*differs))
        .values(values | {"updated_at": NOW, "version": Task.version + 1})
        .returning(*COLUMNS)
    )
    return statement.where(Task.version == any_(VERSIONS)) if if_match else statement


# `Idempotency-Key` creates in one statement: claim the key (or take over an expired one) with
# the whole first response, and insert the task only if the claim succeeded. A concurrent
# request with the same key waits on the key's unique index until this one commits, then
# claims nothing and reads the stored response.
_RESPONSE = {
    "request_hash": bindparam("request_hash"),
    "status_code": bindparam("status_code"),
    "body": bindparam("body", type_=IdempotencyKey.__table__.c.body.type),  # type: ignore[attr-defined]
    "headers": bindparam("headers", type_=IdempotencyKey.__table__.c.headers.type),  # type: ignore[attr-defined]
    "created_at": NOW,
}
_EXPIRED = IdempotencyKey.created_at < bindparam("expired_before", type_=NOW.type)
# The same statement deletes (a batch of) the caller's other expired keys: no job and no extra
# round trip keep the table small. Rows another request holds are skipped, never waited for.
_PURGED = (
    delete(IdempotencyKey)
    .where(
        col(IdempotencyKey.key).in_(
            select(IdempotencyKey.key)
            .where(_EXPIRED, IdempotencyKey.key != bindparam("key"))
            .limit(100)
            .with_for_update(skip_locked=True)
        )
    )
    .cte("purged")
)
_CLAIMING = (
    insert(IdempotencyKey)
    .values(key=bindparam("key"), **_RESPONSE)
    .on_conflict_do_update(
        index_elements=[IdempotencyKey.user_id, IdempotencyKey.key],
        set_=_RESPONSE,
        where=_EXPIRED,
    )
    .returning(IdempotencyKey.key)
)
CLAIM = _CLAIMING.add_cte(_PURGED)
_CLAIM = _CLAIMING.cte("claim")
CREATE_ONCE = create_when(exists(select(_CLAIM.c.key))).add_cte(_CLAIM).add_cte(_PURGED)
STORED_RESPONSE = select(
    IdempotencyKey.request_hash,
    IdempotencyKey.status_code,
    IdempotencyKey.body,
    IdempotencyKey.headers,
    IdempotencyKey.created_at,
).where(IdempotencyKey.key == bindparam("key"))


# `POST /tasks/batch`: one statement per kind of operation, whatever their number. The rows come
# as one JSON array (`jsonb_to_recordset`): a multi-row VALUES into an owned table cannot be
# stamped with the owner, an INSERT … SELECT can, and a JSON array carries a tag list per row,
# which `unnest` of a two-dimensional array could not.
def _rows(name: str, *columns: Any) -> Any:
    return (
        func.jsonb_to_recordset(bindparam("rows", type_=JSONB))
        .table_valued(*columns)
        .render_derived(name=name, with_types=True)
    )


_new = _rows("new", *(column(c.key, c.type) for c in WRITTEN))
CREATE_MANY = (
    insert(Task)
    .from_select([c.key for c in WRITTEN], select(*(_new.c[c.key] for c in WRITTEN)))
    .on_conflict_do_nothing(index_elements=[Task.id])
)

# Updates (a complete is an update of `completed`): each row says which fields it sets
# (`set_<field>`), its values, and the versions `If-Match` accepts (null: any).
UPDATABLE = ("title", "description", "completed", "priority", "due_at", "tags", "parent_id")
_TASK = Task.__table__.c  # type: ignore[attr-defined]
_edit = _rows(
    "edit",
    column("id", Text),
    column("versions", ARRAY(Integer)),
    *(column(f"set_{name}", Boolean) for name in UPDATABLE),
    *(column(name, _TASK[name].type) for name in UPDATABLE),
)
_completing = and_(_edit.c.set_completed, Task.completed.is_distinct_from(_edit.c.completed))
UPDATE_MANY = (
    update(Task)
    .where(
        Task.id == _edit.c.id,
        or_(*(and_(_edit.c[f"set_{n}"], _TASK[n].is_distinct_from(_edit.c[n])) for n in UPDATABLE)),
        or_(_edit.c.versions.is_(None), Task.version == any_(_edit.c.versions)),
    )
    .values(
        {
            name: case((_edit.c[f"set_{name}"], _edit.c[name]), else_=_TASK[name])
            for name in UPDATABLE
        }
        | {
            "completed_at": case(
                (_completing, case((_edit.c.completed, NOW), else_=None)),
                else_=Task.completed_at,
            ),
            "updated_at": NOW,
            "version": Task.version + 1,
        }
    )
    .returning(*COLUMNS)
)

_gone = _rows("gone", column("id", Text), column("versions", ARRAY(Integer)))
DELETE_MANY = (
    delete(Task)
    .where(
        Task.id == _gone.c.id,
        or_(_gone.c.versions.is_(None), Task.version == any_(_gone.c.versions)),
    )
    .returning(Task.id, Task.version)
)

GET_MANY = select(*COLUMNS).where(Task.id == any_(bindparam("ids", type_=ARRAY(Text))))
