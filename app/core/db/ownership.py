"""Task: T-092, T-320, T-321, T-458
Spec: specs/features/plugins.md §Isolation

Isolation by construction: `scope` restricts every statement on an `Owned` table to what the
caller may reach (the rows they own, and whatever more the table's `Access` lets them reach);
the unscoped `DB` refuses them.
"""

from copy import copy
from dataclasses import dataclass
from typing import Any, Protocol

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
# The role a row's owner (`user_id`) has, above any role an `Access` grants others.
OWNER_ROLE = "owner"
# A statement that raises this SQLSTATE (from PL/pgSQL: `RAISE EXCEPTION USING ERRCODE`) is
# refused: the kernel answers 403, with the message as the role it needed (`problems`). A class
# of its own: no PostgreSQL error has it.
FORBIDDEN_SQLSTATE = "TA403"


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


def caller() -> Any:
    """The id of the user a scoped statement runs for, as a SQL expression (`updated_by =
    caller()`): the executor fills it in, as it does the owner the kernel scopes to."""
    return bindparam(OWNER, type_=String, required=True)


def _table(from_: FromClause) -> FromClause:
    return from_.element if isinstance(from_, Alias) else from_


def _owned(from_: FromClause, tables: set[Table]) -> bool:
    return _table(from_) in tables


@dataclass(frozen=True)
class Membership:
    """Who, besides its owner, reaches a container (a list): one row per container and member,
    with the member's role. The rows a container holds name it in a column (`Access.column`)."""

    table: Table
    roles: tuple[str, ...]  # the members' roles, least first; `owner` is above them all
    key: str = "list_id"  # the column naming the container
    member: str = "member_id"  # the column naming the member

    def level(self, role: str) -> int:
        if role == OWNER_ROLE:
            return len(self.roles)
        if role not in self.roles:
            raise ValueError(f"unknown role {role!r}: one of {', '.join(self.roles)}, owner")
        return self.roles.index(role)

    def at_least(self, role: str) -> list[str]:
        return list(self.roles[self.level(role) :])


@dataclass(frozen=True)
class Need:
    """What a statement asks of the caller on one table: to read it or to write it (`delete`:
    by deleting rows), at the least role its route declared (`app.core.requires_role`)."""

    write: bool
    role: str | None
    delete: bool = False


class Access(Protocol):
    """How the members of the container a row names (`column`) reach the rows of an `Owned`
    table: set in the table's `info["access"]` (the tasks plugin's `Shared`). Without one, the
    owner alone does. The kernel asks it while it scopes a statement; what it returns is written
    into the statement, compiled once and cached."""

    membership: Membership
    column: str

    def rule(self, table: FromClause, need: Need) -> Any:
        """The condition a row of `table` meets when the caller may do what `need` says to it
        (`table.c.user_id == caller()` for its owner alone)."""

    def owner(self, table: FromClause, values: dict[str, Any], need: Need) -> Any:
        """The `user_id` of a row written with `values` (column name to SQL expression: an
        INSERT's row, an UPDATE's SET): None for the caller (an UPDATE: unchanged)."""

    def page(self, statement: Select[Any], table: Table, need: Need) -> Select[Any] | None:
        """`statement` (a request's own SELECT, of `table` alone) scoped some faster way, or
        None: its WHERE clause gets `rule`."""


def _access(from_: FromClause) -> Access | None:
    table = _table(from_)
    return table.info.get("access") if isinstance(table, Table) else None


def _rule(from_: FromClause, need: Need) -> Any:
    access = _access(from_)
    return from_.c.user_id == caller() if access is None else access.rule(from_, need)


def _criteria(from_: FromClause, tables: set[Table], need: Need) -> list[Any]:
    """Conditions for the WHERE clause; outer-join sides are scoped in place, in their ON."""
    if isinstance(from_, Join):
        assert from_.onclause is not None  # a Join always has one, given or derived
        left, right = _criteria(from_.left, tables, need), _criteria(from_.right, tables, need)
        if from_.full:
            from_.onclause = and_(from_.onclause, *left, *right)
            return []
        if from_.isouter:
            from_.onclause = and_(from_.onclause, *right)
            return left
        return left + right
    if _owned(from_, tables):
        return [_rule(from_, need)]
    return []


def _scope_outer_joins(select_: Select[Any], tables: set[Table], need: Need) -> None:
    # `select(...).outerjoin(target, on)` keeps its joins aside and builds the Join anew at
    # compile time, so the ON clause is scoped here, in the stored join.
    joins = []
    setup: tuple[Any, ...] = select_._setup_joins  # (target, onclause, left, flags) tuples
    for target, onclause, left, flags in setup:
        if flags["isouter"] or flags["full"]:
            selectable: FromClause = getattr(inspect(target), "selectable", target)
            if _owned(selectable, tables):
                if onclause is None or flags["full"]:
                    raise OwnershipError(
                        "outer join to an owned table needs an explicit ON clause "
                        "(and FULL joins of owned tables are refused)"
                    )
                onclause = and_(onclause, _rule(selectable, need))
        joins.append((target, onclause, left, flags))
    select_._setup_joins = tuple(joins)


def _scope_select(
    select_: Select[Any], tables: set[Table], need: Need, paged: list[Select[Any]] | None = None
) -> None:
    """Scope `select_`; when `paged` is given (`select_` is the statement's own SELECT), a table
    it reads alone may scope it as a whole (`Access.page`), into `paged`."""
    _scope_outer_joins(select_, tables, need)
    froms = select_.get_final_froms()
    table = froms[0] if len(froms) == 1 else None
    if paged is not None and isinstance(table, Table) and table in tables:
        access = _access(table)
        page = None if access is None else access.page(select_, table, need)
        if page is not None:
            paged.append(page)
            return
    criteria = [c for from_ in froms for c in _criteria(from_, tables, need)]
    if criteria:
        select_._where_criteria += tuple(criteria)


def _column_key(key: Any) -> str:
    return str(getattr(key, "key", key))


def _scope_update_or_delete(statement: Update | Delete, tables: set[Table], need: Need) -> None:
    table = statement.table
    if not _owned(table, tables):
        return
    statement._where_criteria += (_rule(table, need),)
    access = _access(table)
    if isinstance(statement, Update) and access is not None:
        values: dict[Any, Any] = dict(statement._values or {})
        owner = access.owner(table, {_column_key(k): v for k, v in values.items()}, need)
        if owner is not None:  # the row moves to another owner (into another's list)
            values[table.c.user_id] = owner
            statement._values = immutabledict(values)


def _stamp_insert(insert: Insert, tables: set[Table], need: Need) -> None:
    """Stamp the owner on an INSERT into an owned table (in place: `insert` is a clone)."""
    table = insert.table
    if not _owned(table, tables):
        return
    if insert._multi_values:
        raise OwnershipError(
            f"multi-row VALUES into owned table {table.name}: use INSERT … SELECT "
            "(from_select) or one row per statement, so the owner can be stamped"
        )
    if insert.select is not None:
        names = [_column_key(name) for name in insert._select_names or ()]
        values = dict(zip(names, insert.select.selected_columns, strict=True))
    else:
        values = {_column_key(k): v for k, v in (insert._values or {}).items()}
    if "user_id" in values:
        raise OwnershipError(
            f"INSERT into owned table {table.name} sets user_id: the kernel stamps the owner"
        )
    access = _access(table)
    owner = access.owner(table, values, need) if access is not None else None
    owner = caller() if owner is None else owner
    if insert.select is not None:
        insert._select_names = [*(insert._select_names or ()), "user_id"]
        insert.select = insert.select.add_columns(owner)
    else:
        stamped = immutabledict(insert._values or {})  # a plain dict at run time
        insert._values = stamped.union({table.c.user_id: owner})
    conflict = insert._post_values_clause
    if isinstance(conflict, OnConflictDoUpdate):
        # Without this, a conflicting key of another user's row would update that row.
        conflict = copy(conflict)
        mine = _rule(table, need)
        where = conflict.update_whereclause
        conflict.update_whereclause = mine if where is None else and_(where, mine)
        insert._post_values_clause = conflict


def scope(statement: ClauseElement, role: str | None = None) -> ClauseElement:
    """A copy of `statement` in which every `Owned` table is restricted to what the caller may
    reach: read where it reads, written where it writes, at `role` or above (a route's)."""
    if isinstance(statement, TextClause):
        raise OwnershipError("plain SQL cannot be scoped to an owner: use Core statements")
    tables = owned_tables()
    read, write = Need(write=False, role=role), Need(write=True, role=role)
    remove = Need(write=True, role=role, delete=True)
    paged: list[Select[Any]] = []
    top = isinstance(statement, Select) and statement._for_update_arg is None

    def scope_select(select_: Select[Any]) -> None:
        mine = top and select_._is_clone_of is statement
        _scope_select(select_, tables, read, paged if mine else None)

    scoped = visitors.cloned_traverse(
        statement,
        {},
        {
            "select": scope_select,
            "update": lambda s: _scope_update_or_delete(s, tables, write),
            "delete": lambda s: _scope_update_or_delete(s, tables, remove),
            "insert": lambda s: _stamp_insert(s, tables, write),
        },
    )
    return paged[0] if paged else scoped


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


UNSCOPED = CompiledCache(refuse_owned)
_SCOPED: dict[str | None, CompiledCache] = {}


def scoped(role: str | None = None) -> CompiledCache:
    """The compiled statements scoped for callers at `role` (None: as each table declares)."""
    cache = _SCOPED.get(role)
    if cache is None:
        cache = _SCOPED[role] = CompiledCache(lambda statement: scope(statement, role))
    return cache
