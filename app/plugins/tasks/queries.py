"""Task: T-093, T-142, T-271, T-282, T-291, T-351, T-352
Spec: specs/api/rest-endpoints.md §Tasks, §Order, §One round trip; specs/features/sharing.md
§Tasks in shared lists

The statements the task routes send, each built once. The kernel scopes every one of them to
the caller (`user_id = :owner` is added, or stamped on INSERT), so none mentions the user.

Each request's normal path is one statement: a write carries its own preconditions (`If-Match`
as `version = ANY(:versions)`, "something changes" as `IS DISTINCT FROM`) and returns the row.
Only when it matches nothing does the route read the row to tell 404 from 412 from "unchanged".
Every write may safely run twice (the kernel retries once on a dropped connection): a create's
id is chosen before sending (`ON CONFLICT (id) DO NOTHING`), and updates set values rather than
add to them, so applying one again matches nothing.

Who wrote a task is the kernel's `caller()` in every write: `created_by` and `updated_by` on a
create, `updated_by` on every change, `completed_by` when it becomes completed (null when it
is reopened); never a value from the request.
"""

from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BindParameter,
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
    literal_column,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, insert
from sqlalchemy.sql.dml import ReturningInsert
from sqlmodel import col

from app.core import caller
from app.plugins.tasks.models import POSITION_TYPE, IdempotencyKey, Task, TaskList
from app.plugins.tasks.schemas import COLUMNS

ID: BindParameter[str] = bindparam("id")
NOW = bindparam("now", type_=DateTime(timezone=True))
VERSIONS: BindParameter[list[int]] = bindparam("versions")
LIST_ID = bindparam("list_id", type_=Text)
# Who wrote it: the caller, set by each statement (`caller()`), never sent.
ACTORS = ("created_by", "updated_by", "completed_by")
# Every column a create sends, as bind parameters of the same names: all but the owner (the
# kernel stamps it), the position (the statement computes it) and the actors.
WRITTEN = [column for column in COLUMNS if column.key not in {"user_id", "position", *ACTORS}]
DEFAULT_LIST_NAME = "My Tasks"

GET = select(*COLUMNS).where(col(Task.id) == ID)


def created_by_caller(completed: Any) -> dict[str, Any]:
    """A new task's actors: the caller created it, and completed it if `completed` (an
    expression of the statement) holds."""
    return {
        "created_by": caller(),
        "updated_by": caller(),
        "completed_by": case((completed, caller()), else_=None),
    }


def completed_by_caller(completed: Any, changes: Any) -> Any:
    """`completed_by` after a write that sets `completed` to `completed` where `changes` (it
    differs from the stored value): the caller if it completes the task, null if it reopens
    it, else as it was."""
    return case((changes, case((completed, caller()), else_=None)), else_=col(Task.completed_by))


def between(after: Any, before: Any) -> ColumnElement[str]:
    """The position key between two (NULL: the start, the end), computed by the database
    (migration tasks_0004's `position_between`); NULL when `after` is not before `before`."""
    return func.position_between(after, before, type_=POSITION_TYPE)


def default_list(*returning: Any) -> Any:
    """The caller's default list, made if missing: a data-modifying CTE the statement that needs
    the list adds, so the first create makes it in the same round trip. Its id (`list_id`) is
    derived from the owner's (`default_list_id`); a concurrent first create waits on the key,
    then does nothing, and the foreign key's check at the end of the statement sees the list it
    committed. It returns `returning` (the list's columns) when it made the list."""
    return (
        insert(TaskList)
        .values(
            id=LIST_ID,
            name=DEFAULT_LIST_NAME,
            position=between(None, None),
            is_default=True,
            created_at=NOW,
            updated_at=NOW,
            version=1,
        )
        .on_conflict_do_nothing()
        .returning(*returning)
        .cte("default_list")
    )


# A create's list: the one it names, else its parent's (a subtask is in its parent's list; no
# such parent: NULL, the default list, and the tree's trigger refuses the parent).
PARENT_LIST = (
    select(col(Task.list_id))
    .where(col(Task.id) == bindparam("parent_id", type_=Text))
    .correlate_except(Task)
    .scalar_subquery()
)
TARGET_LIST = func.coalesce(LIST_ID, PARENT_LIST)


def end_of(target: ColumnElement[Any]) -> ColumnElement[Any]:
    """A new task's place: after the last of the list `target`. The same in every part of one
    statement, which sees one snapshot: the stored response of a create with `Idempotency-Key`
    uses it too."""
    last = select(func.max(col(Task.position))).where(col(Task.list_id) == target)
    return between(last.scalar_subquery(), None)


END_OF_LIST = end_of(TARGET_LIST)


def create_when(
    found: ColumnElement[bool] | None = None, list_id: ColumnElement[Any] | None = None
) -> ReturningInsert[Any]:
    """A create's row at the end of its list, inserted only when `found` holds (a CTE of the
    same statement found its row; None: always), `RETURNING` the task. Its list is the
    `list_id` parameter, or the expression `list_id` (one the same statement looks up).

    The list is one of the caller's, or the insert fails on `tasks_list_id_fkey` (the key is
    (list_id, user_id)). A task in the caller's default list makes that list if it is missing:
    the table's BEFORE INSERT trigger does (migration tasks_0004), so a create is one statement,
    the first one included, and the foreign key's check at the end of the statement sees the
    list a concurrent first create committed."""
    actors = created_by_caller(bindparam("completed", type_=Boolean))
    target = TARGET_LIST if list_id is None else list_id
    values = select(
        *(target if c.key == "list_id" else bindparam(c.key, type_=c.type) for c in WRITTEN),
        end_of(target),
        *actors.values(),
    )
    if found is not None:
        values = values.where(found)
    keys = [column.key for column in WRITTEN] + ["position", *actors]
    return (
        insert(Task)
        .from_select(keys, values)
        .on_conflict_do_nothing(index_elements=[Task.id])
        .returning(*COLUMNS)
    )


CREATE = create_when()
# The constraint a create in a list that is not the caller's violates.
LIST_KEY = "tasks_list_id_fkey"


# The fields COMPLETE sets: what in-transaction subscribers of completions name (`fields`).
COMPLETING = frozenset({"completed", "completed_at"})
COMPLETE = (
    update(Task)
    .where(col(Task.id) == ID, not_(col(Task.completed)))
    .values(
        completed=True,
        completed_at=NOW,
        completed_by=caller(),
        updated_at=NOW,
        updated_by=caller(),
        version=Task.version + 1,
    )
    .returning(*COLUMNS)
)

DELETE = delete(Task).where(col(Task.id) == ID).returning(col(Task.id), col(Task.version))
DELETE_IF_MATCH = DELETE.where(col(Task.version) == any_(VERSIONS))


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
        changes = col(Task.completed).is_distinct_from(completed)
        values["completed_at"] = case(
            (changes, case((completed, NOW), else_=None)), else_=col(Task.completed_at)
        )
        values["completed_by"] = completed_by_caller(completed, changes)
    statement = (
        update(Task)
        .where(col(Task.id) == ID, or_(*differs))
        .values(values | {"updated_at": NOW, "updated_by": caller(), "version": Task.version + 1})
        .returning(*COLUMNS)
    )
    return statement.where(col(Task.version) == any_(VERSIONS)) if if_match else statement


# `Idempotency-Key` creates in one statement: claim the key (or take over an expired one) with
# the whole first response, and insert the task only if the claim succeeded. A concurrent
# request with the same key waits on the key's unique index until this one commits, then
# claims nothing and reads the stored response.
_BODY = bindparam("body", type_=IdempotencyKey.__table__.c.body.type)  # type: ignore[attr-defined]
_RESPONSE = {
    "request_hash": bindparam("request_hash"),
    "status_code": bindparam("status_code"),
    "body": _BODY,
    "headers": bindparam("headers", type_=IdempotencyKey.__table__.c.headers.type),  # type: ignore[attr-defined]
    "created_at": NOW,
}
_EXPIRED = col(IdempotencyKey.created_at) < bindparam("expired_before", type_=NOW.type)
# The same statement deletes (a batch of) the caller's other expired keys: no job and no extra
# round trip keep the table small. Rows another request holds are skipped, never waited for.
_PURGED = (
    delete(IdempotencyKey)
    .where(
        col(IdempotencyKey.key).in_(
            select(col(IdempotencyKey.key))
            .where(_EXPIRED, col(IdempotencyKey.key) != bindparam("key"))
            .limit(100)
            .with_for_update(skip_locked=True)
        )
    )
    .cte("purged")
)


def _claiming(response: dict[str, Any]) -> ReturningInsert[Any]:
    return (
        insert(IdempotencyKey)
        .values(key=bindparam("key"), **response)
        .on_conflict_do_update(
            index_elements=[col(IdempotencyKey.user_id), col(IdempotencyKey.key)],
            set_=response,
            where=_EXPIRED,
        )
        .returning(col(IdempotencyKey.key))
    )


CLAIM = _claiming(_RESPONSE).add_cte(_PURGED)
# Whose the new task is: its list's owner (the caller's own list, or one shared with them; the
# kernel stamps the same on the row), else the caller (their default list, made if missing).
_TARGET_OWNER = func.coalesce(
    select(col(TaskList.user_id)).where(col(TaskList.id) == TARGET_LIST).scalar_subquery(),
    caller(),
)
# A create's stored response is its body with what the same statement computes: its position,
# its list and its owner.
_CLAIM = _claiming(
    _RESPONSE
    | {
        "body": _BODY.op("||")(
            func.jsonb_build_object(
                literal_column("'position'"),
                END_OF_LIST,
                literal_column("'list_id'"),
                TARGET_LIST,
                literal_column("'user_id'"),
                _TARGET_OWNER,
            )
        )
    }
).cte("claim")
_CLAIMED = exists(select(_CLAIM.c.key))
CREATE_ONCE = create_when(_CLAIMED).add_cte(_CLAIM).add_cte(_PURGED)
STORED_RESPONSE = select(
    col(IdempotencyKey.request_hash),
    col(IdempotencyKey.status_code),
    col(IdempotencyKey.body),
    col(IdempotencyKey.headers),
    col(IdempotencyKey.created_at),
).where(col(IdempotencyKey.key) == bindparam("key"))


# `POST /tasks/batch`: one statement per kind of operation, whatever their number. The rows come
# as one JSON array (`jsonb_to_recordset`): a multi-row VALUES into an owned table cannot be
# stamped with the owner, an INSERT … SELECT can, and a JSON array carries a tag list per row,
# which `unnest` of a two-dimensional array could not.
def recordset(name: str, *columns: Any) -> Any:
    """The JSON array `:rows` as a table `name` of `columns`."""
    return (
        func.jsonb_to_recordset(bindparam("rows", type_=JSONB))
        .table_valued(*columns)
        .render_derived(name=name, with_types=True)
    )


_new = recordset("new", *(column(c.key, c.type) for c in WRITTEN), column("n", Integer))
# A row's list: the one it names, else its parent's, else the default list (no such parent:
# the tree's trigger refuses it).
_target = func.coalesce(
    _new.c.list_id,
    # Its own FROM tasks (the parent), never the enclosing statement's rows.
    select(col(Task.list_id))
    .where(col(Task.id) == _new.c.parent_id)
    .correlate_except(Task)
    .scalar_subquery(),
    LIST_ID,
)
_last = select(func.max(col(Task.position))).where(col(Task.list_id) == _target).scalar_subquery()
# Each list's new tasks after its last, in the operations' order; a row naming a list that is
# not the caller's is not inserted (its operation is a 422); the default list is made by the
# table's trigger if need be.
_NEW_ACTORS = created_by_caller(_new.c.completed)
CREATE_MANY = (
    insert(Task)
    .from_select(
        [c.key for c in WRITTEN] + ["position", *_NEW_ACTORS],
        select(
            *(_target if c.key == "list_id" else _new.c[c.key] for c in WRITTEN),
            func.position_after(
                _last, func.row_number().over(partition_by=_target, order_by=_new.c.n)
            ),
            *_NEW_ACTORS.values(),
        ).where(
            or_(
                _target == LIST_ID,
                exists(select(col(TaskList.id)).where(col(TaskList.id) == _target)),
            )
        ),
    )
    .on_conflict_do_nothing(index_elements=[Task.id])
    .returning(*COLUMNS)
)

# Updates (a complete is an update of `completed`): each row says which fields it sets
# (`set_<field>`), its values, and the versions `If-Match` accepts (null: any).
UPDATABLE = (
    "title",
    "description",
    "completed",
    "priority",
    "due_at",
    "tags",
    "parent_id",
    "assignee_id",
)
_TASK = Task.__table__.c  # type: ignore[attr-defined]
_edit = recordset(
    "edit",
    column("id", Text),
    column("versions", ARRAY(Integer)),
    *(column(f"set_{name}", Boolean) for name in UPDATABLE),
    *(column(name, _TASK[name].type) for name in UPDATABLE),
)
_completing = and_(_edit.c.set_completed, col(Task.completed).is_distinct_from(_edit.c.completed))
UPDATE_MANY = (
    update(Task)
    .where(
        col(Task.id) == _edit.c.id,
        or_(*(and_(_edit.c[f"set_{n}"], _TASK[n].is_distinct_from(_edit.c[n])) for n in UPDATABLE)),
        or_(_edit.c.versions.is_(None), col(Task.version) == any_(_edit.c.versions)),
    )
    .values(
        {
            name: case((_edit.c[f"set_{name}"], _edit.c[name]), else_=_TASK[name])
            for name in UPDATABLE
        }
        | {
            "completed_at": case(
                (_completing, case((_edit.c.completed, NOW), else_=None)),
                else_=col(Task.completed_at),
            ),
            "completed_by": completed_by_caller(_edit.c.completed, _completing),
            "updated_at": NOW,
            "updated_by": caller(),
            "version": Task.version + 1,
        }
    )
    .returning(*COLUMNS)
)

_gone = recordset("gone", column("id", Text), column("versions", ARRAY(Integer)))
DELETE_MANY = (
    delete(Task)
    .where(
        col(Task.id) == _gone.c.id,
        or_(_gone.c.versions.is_(None), col(Task.version) == any_(_gone.c.versions)),
    )
    .returning(col(Task.id), col(Task.version))
)

GET_MANY = select(*COLUMNS).where(col(Task.id) == any_(bindparam("ids", type_=ARRAY(Text))))
