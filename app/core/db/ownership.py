"""Task: T-092
Spec: specs/features/plugins.md §Isolation

Isolation by construction: `scope` restricts every statement on an `Owned` table to its owner; the unscoped `DB` refuses them.
"""

from copy import copy
from typing import Any

from sqlalchemy import Column, ForeignKey, String, Table, Text, and_, bindparam, inspect
from sqlalchemy.dialects.postgresql.dml import OnConflictDoUpdate
from sqlalchemy.sql import ClauseElement, visitors
from sqlalchemy.sql.dml import Delete, Insert, Update
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.sql.selectable import Alias, FromClause, Join, Select
from sqlalchemy.sql.util import find_tables
from sqlalchemy.util import immutabledict
from sqlmodel import Field, SQLModel

from app.core.db.statements import CompiledCache

# The bind parameter every scoped statement carries; executors fill it in.
OWNER = "todo_api_owner"


class OwnershipError(RuntimeError):
    """A statement on an `Owned` model that cannot be scoped to one owner."""


# The owner column's foreign key is named `<table>` + this: a write for a user deleted since
# their token was issued violates it, and the kernel answers 401, not 500 (`problems`).
OWNER_KEY_SUFFIX = "_user_id_fkey"


class Owned(SQLModel):
    """Mixin for user-owned table models: `user_id` (made by `owner_column`) and the scoping."""

    user_id: str = Field(default=None, nullable=False)


def owner_column(table: str) -> "Column[str]":
    """The `user_id` column of an owned table, for its migration's `create_table`: it
    references `users.id` (ON DELETE CASCADE) under the name the kernel recognises."""
    key = ForeignKey("users.id", ondelete="CASCADE", name=f"{table}{OWNER_KEY_SUFFIX}")
    return Column("user_id", Text(), key, nullable=False)


def owned_tables(base: type[SQLModel] = Owned) -> set[Table]:
    """The tables of every mapped `Owned` model, including ones defined after start-up."""
    found: set[Table] = set()
    subclasses: list[type[SQLModel]] = base.__subclasses__()
    for cls in subclasses:
        table = vars(cls).get("__table__")  # its own table, not one inherited
        if isinstance(table, Table):
            found.add(table)
        found |= owned_tables(cls)
    return found


def _owner_param() -> Any:
    return bindparam(OWNER, type_=String, required=True)


def _owned(from_: FromClause, tables: set[Table]) -> bool:
    if isinstance(from_, Alias):
        return from_.element in tables
    return from_ in tables


def _criteria(from_: FromClause, tables: set[Table]) -> list[Any]:
    """Conditions for the WHERE clause; outer-join sides are scoped in place, in their ON."""
    if isinstance(from_, Join):
        assert from_.onclause is not None  # a Join always has one, given or derived
        left, right = _criteria(from_.left, tables), _criteria(from_.right, tables)
        if from_.full:
            from_.onclause = and_(from_.onclause, *left, *right)
            return []
        if from_.isouter:
            from_.onclause = and_(from_.onclause, *right)
            return left
        return left + right
    if _owned(from_, tables):
        return [from_.c.user_id == _owner_param()]
    return []


def _scope_outer_joins(select: Select[Any], tables: set[Table]) -> None:
    # `select(...).outerjoin(target, on)` keeps its joins aside and builds the Join anew at
    # compile time, so the ON clause is scoped here, in the stored join.
    joins = []
    setup: tuple[Any, ...] = select._setup_joins  # (target, onclause, left, flags) tuples
    for target, onclause, left, flags in setup:
        if flags["isouter"] or flags["full"]:
            selectable: FromClause = getattr(inspect(target), "selectable", target)
            if _owned(selectable, tables):
                if onclause is None or flags["full"]:
                    raise OwnershipError(
                        "outer join to an owned table needs an explicit ON clause "
                        "(and FULL joins of owned tables are refused)"
                    )
                onclause = and_(onclause, selectable.c.user_id == _owner_param())
        joins.append((target, onclause, left, flags))
    select._setup_joins = tuple(joins)


def _scope_select(select: Select[Any], tables: set[Table]) -> None:
    _scope_outer_joins(select, tables)
    criteria = [c for from_ in select.get_final_froms() for c in _criteria(from_, tables)]
    if criteria:
        select._where_criteria += tuple(criteria)


def _scope_update_or_delete(statement: Update | Delete, tables: set[Table]) -> None:
    if _owned(statement.table, tables):
        statement._where_criteria += (statement.table.c.user_id == _owner_param(),)


def _stamp_insert(insert: Insert, tables: set[Table]) -> None:
    """Stamp the owner on an INSERT into an owned table (in place: `insert` is a clone)."""
    table = insert.table
    if not _owned(table, tables):
        return
    if insert._multi_values:
        raise OwnershipError(
            f"multi-row VALUES into owned table {table.name}: use INSERT … SELECT "
            "(from_select) or one row per statement, so the owner can be stamped"
        )
    names = insert._select_names if insert.select is not None else list(insert._values or {})
    if any(getattr(name, "key", name) == "user_id" for name in names or ()):
        raise OwnershipError(
            f"INSERT into owned table {table.name} sets user_id: the kernel stamps the owner"
        )
    if insert.select is not None:
        insert._select_names = [*(insert._select_names or ()), "user_id"]
        insert.select = insert.select.add_columns(_owner_param())
    else:
        values = immutabledict(insert._values or {})  # a plain dict at run time
        insert._values = values.union({table.c.user_id: _owner_param()})
    conflict = insert._post_values_clause
    if isinstance(conflict, OnConflictDoUpdate):
        # Without this, a conflicting key of another user's row would update that row.
        conflict = copy(conflict)
        mine = table.c.user_id == _owner_param()
        where = conflict.update_whereclause
        conflict.update_whereclause = mine if where is None else and_(where, mine)
        insert._post_values_clause = conflict


def scope(statement: ClauseElement) -> ClauseElement:
    """A copy of `statement` in which every `Owned` table is restricted to the owner."""
    if isinstance(statement, TextClause):
        raise OwnershipError("plain SQL cannot be scoped to an owner: use Core statements")
    tables = owned_tables()
    return visitors.cloned_traverse(
        statement,
        {},
        {
            "select": lambda s: _scope_select(s, tables),
            "update": lambda s: _scope_update_or_delete(s, tables),
            "delete": lambda s: _scope_update_or_delete(s, tables),
            "insert": lambda s: _stamp_insert(s, tables),
        },
    )


def refuse_owned(statement: ClauseElement) -> ClauseElement:
    """For the unscoped executor: any statement touching an `Owned` table is refused."""
    if isinstance(statement, TextClause):
        return statement
    touched = find_tables(statement, include_aliases=True, include_joins=True, include_crud=True)
    owned = owned_tables()
    names = sorted({t.name for t in touched if isinstance(t, FromClause) and _owned(t, owned)})
    if names:
        raise OwnershipError(
            f"statement on owned table {names[0]} without an owner: use app.core.OwnedDB"
        )
    return statement


SCOPED = CompiledCache(scope)
UNSCOPED = CompiledCache(refuse_owned)
