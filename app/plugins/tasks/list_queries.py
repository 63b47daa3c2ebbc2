"""Task: T-285, T-317, T-335
Spec: specs/api/rest-endpoints.md §Lists, §One round trip, §Tasks (`POST /api/v1/tasks/batch`)

The statements the list routes send, each built once and scoped to the caller by the kernel.
Every statement that needs the caller's default list makes it if missing (`default_list`), so no
request ever reads first to find out whether it exists.
"""

from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    Text,
    and_,
    any_,
    bindparam,
    delete,
    func,
    literal,
    not_,
    or_,
    select,
    tuple_,
    union_all,
    update,
)
from sqlalchemy import column as field
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlmodel import col

from app.plugins.tasks.models import POSITION_TYPE, TaskList
from app.plugins.tasks.queries import ID, NOW, VERSIONS, between, default_list, recordset
from app.plugins.tasks.schemas import LIST_COLUMNS, OWN_LIST_COLUMNS

L = TaskList.__table__.c  # type: ignore[attr-defined]
WRITTEN = ("id", "name", "is_default", "created_at", "updated_at", "version")

GET = select(*LIST_COLUMNS).where(L.id == ID)


@lru_cache(maxsize=4)
def page(after: bool) -> Select[Any]:
    """A page of the caller's lists in order, their default list among them even when this
    statement makes it (a CTE's row is not in the same statement's view of the table)."""
    made = default_list(*OWN_LIST_COLUMNS)
    lists = union_all(select(*made.c), select(*LIST_COLUMNS)).subquery("lists")
    statement = select(*lists.c).order_by(lists.c.position, lists.c.id)
    if after:
        cursor = tuple_(bindparam("after_position", type_=POSITION_TYPE), bindparam("after_id"))
        statement = statement.where(tuple_(lists.c.position, lists.c.id) > cursor)
    return statement.limit(bindparam("limit")).add_cte(made)


# A new list after the caller's last (the default list, made by the same statement if missing,
# is first: `a0`, so the first other list comes after it even though this statement cannot see
# the row it makes).
_LAST = select(func.max(L.position)).scalar_subquery()
CREATE = (
    insert(TaskList)
    .from_select(
        [*WRITTEN, "position"],
        select(
            ID,
            bindparam("name", type_=Text),
            literal(False),
            NOW,
            NOW,
            literal(1),
            between(func.coalesce(_LAST, between(None, None)), None),
        ),
    )
    .on_conflict_do_nothing(index_elements=[L.id])
    .returning(*OWN_LIST_COLUMNS)
    .add_cte(default_list(col(TaskList.id)))
)


@lru_cache(maxsize=4)
def rename(if_match: bool) -> Any:
    statement = (
        update(TaskList)
        .where(L.id == ID, L.name.is_distinct_from(bindparam("name", type_=Text)))
        .values(name=bindparam("name", type_=Text), updated_at=NOW, version=L.version + 1)
        .returning(*OWN_LIST_COLUMNS)
    )
    return statement.where(L.version == any_(VERSIONS)) if if_match else statement


# The default list is never deleted: nothing matches, and the route answers 409.
DELETE = delete(TaskList).where(L.id == ID, not_(L.is_default)).returning(L.id, L.version)
DELETE_IF_MATCH = DELETE.where(and_(L.version == any_(VERSIONS)))


# `POST /tasks/batch`: one statement per kind of list operation, whatever their number, over a
# JSON array of rows as the task operations are (`queries.recordset`).
_new = recordset("new", field("id", Text), field("name", Text), field("n", Integer))
# New lists after the caller's last, in the operations' order.
CREATE_MANY = (
    insert(TaskList)
    .from_select(
        [*WRITTEN, "position"],
        select(
            _new.c.id,
            _new.c.name,
            literal(False),
            NOW,
            NOW,
            literal(1),
            func.position_after(
                func.coalesce(_LAST, between(None, None)),
                func.row_number().over(order_by=_new.c.n),
            ),
        ),
    )
    .on_conflict_do_nothing(index_elements=[L.id])
    .returning(*OWN_LIST_COLUMNS)
    .add_cte(default_list(col(TaskList.id)))
)
# Each row: the list, its new name, the versions `if_match` accepts (null: any).
_renamed = recordset(
    "renamed", field("id", Text), field("versions", ARRAY(Integer)), field("name", Text)
)
RENAME_MANY = (
    update(TaskList)
    .where(
        L.id == _renamed.c.id,
        L.name.is_distinct_from(_renamed.c.name),
        or_(_renamed.c.versions.is_(None), L.version == any_(_renamed.c.versions)),
    )
    .values(name=_renamed.c.name, updated_at=NOW, version=L.version + 1)
    .returning(*OWN_LIST_COLUMNS)
)
_gone = recordset("gone", field("id", Text), field("versions", ARRAY(Integer)))
DELETE_MANY = (
    delete(TaskList)
    .where(
        L.id == _gone.c.id,
        not_(L.is_default),
        or_(_gone.c.versions.is_(None), L.version == any_(_gone.c.versions)),
    )
    .returning(L.id, L.version)
)
GET_MANY = select(*LIST_COLUMNS).where(L.id == any_(bindparam("ids", type_=ARRAY(Text))))
