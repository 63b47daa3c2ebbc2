"""Task: T-285
Spec: specs/api/rest-endpoints.md §Lists, §One round trip

The statements the list routes send, each built once and scoped to the caller by the kernel.
Every statement that needs the caller's default list makes it if missing (`default_list`), so no
request ever reads first to find out whether it exists.
"""

from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Select,
    Text,
    and_,
    any_,
    bindparam,
    delete,
    func,
    literal,
    not_,
    select,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col

from app.plugins.tasks.models import POSITION_TYPE, TaskList
from app.plugins.tasks.queries import ID, NOW, VERSIONS, between, default_list
from app.plugins.tasks.schemas import LIST_COLUMNS

L = TaskList.__table__.c  # type: ignore[attr-defined]
WRITTEN = ("id", "name", "is_default", "created_at", "updated_at", "version")

GET = select(*LIST_COLUMNS).where(L.id == ID)


@lru_cache(maxsize=4)
def page(after: bool) -> Select[Any]:
    """A page of the caller's lists in order, their default list among them even when this
    statement makes it (a CTE's row is not in the same statement's view of the table)."""
    made = default_list(*LIST_COLUMNS)
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
    .returning(*LIST_COLUMNS)
    .add_cte(default_list(col(TaskList.id)))
)


@lru_cache(maxsize=4)
def rename(if_match: bool) -> Any:
    statement = (
        update(TaskList)
        .where(L.id == ID, L.name.is_distinct_from(bindparam("name", type_=Text)))
        .values(name=bindparam("name", type_=Text), updated_at=NOW, version=L.version + 1)
        .returning(*LIST_COLUMNS)
    )
    return statement.where(L.version == any_(VERSIONS)) if if_match else statement


# The default list is never deleted: nothing matches, and the route answers 409.
DELETE = delete(TaskList).where(L.id == ID, not_(L.is_default)).returning(L.id, L.version)
DELETE_IF_MATCH = DELETE.where(and_(L.version == any_(VERSIONS)))
