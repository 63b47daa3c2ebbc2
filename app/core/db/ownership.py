"""Task: T-092, T-320, T-321
Spec: specs/features/plugins.md §Isolation; specs/features/sharing.md §The access rule

Isolation by construction: `scope` restricts every statement on an `Owned` table to what the
caller may reach (the rows they own and, for a `Shared` table, the rows of the containers they
are a member of, at the role the statement needs); the unscoped `DB` refuses them.
"""

from collections.abc import Sequence
from copy import copy
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    ForeignKey,
    String,
    Table,
    Text,
    and_,
    any_,
    bindparam,
    case,
    false,
    func,
    inspect,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.dialects.postgresql.dml import OnConflictDoUpdate
from sqlalchemy.sql import ClauseElement, operators, visitors
from sqlalchemy.sql.dml import Delete, Insert, Update
from sqlalchemy.sql.elements import BinaryExpression, TextClause
from sqlalchemy.sql.selectable import Alias, FromClause, Join, Select
from sqlalchemy.sql.util import ClauseAdapter, find_tables
from sqlalchemy.util import immutabledict
from sqlmodel import Field, SQLModel

from app.core.db.statements import CompiledCache

# The bind parameter every scoped statement carries; executors fill it in.
OWNER = "todo_api_owner"
# The role every member has above the membership's roles: the row's owner (`user_id`).
OWNER_ROLE = "owner"
# What `PERMITTED` raises for a member whose role is too low; the kernel answers 403 with the
# message (`problems`). A class of its own: no PostgreSQL error has it.
FORBIDDEN_SQLSTATE = "TA403"
# Created by the migration runner before any plugin's branch: the one SQL function the access
# rule needs, because only PL/pgSQL can raise inside a statement.
PERMITTED_FUNCTION = f"""
CREATE OR REPLACE FUNCTION todo_api_permitted(allowed boolean, role text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF allowed THEN
        RETURN true;
    END IF;
    RAISE EXCEPTION USING ERRCODE = '{FORBIDDEN_SQLSTATE}', MESSAGE = role;
END
$$
"""


class OwnershipError(RuntimeError):
    """A statement on an `Owned` model that cannot be scoped to one owner."""


# The owner column's foreign key is named `<table>` + this: a write for a user deleted since
# their token was issued violates it, and the kernel answers 401, not 500 (`problems`).
OWNER_KEY_SUFFIX = "_user_id_fkey"


class Owned(SQLModel):
    """Mixin for user-owned table models: `user_id` (made by `owner_column`) and the scoping."""

    user_id: str = Field(default=None, nullable=False)


@dataclass(frozen=True)
class Membership:
    """Who, besides its owner, reaches a container (a list): one row per container and member,
    with the member's role. The table is `Owned` by the container's owner, and `Shared` through
    itself, so the members read it and only the owner writes it (a member may delete their own
    row: leave)."""

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
class Shared:
    """Declared in an `Owned` table's `info["shared"]`: its rows are reached by the members of
    the container its `column` names, reading at `read` or above and writing at `write` or
    above. The row's `user_id` is the container's owner, whoever wrote it."""

    membership: Membership
    column: str
    read: str
    write: str

    def __post_init__(self) -> None:
        self.membership.level(self.read)
        self.membership.level(self.write)


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


def caller() -> Any:
    """The id of the user a scoped statement runs for, as a SQL expression (`updated_by =
    caller()`): the executor fills it in, as it does the owner the kernel scopes to."""
    return _owner_param()


def _owned(from_: FromClause, tables: set[Table]) -> bool:
    if isinstance(from_, Alias):
        return from_.element in tables
    return from_ in tables


def _shared(from_: FromClause) -> Shared | None:
    table = from_.element if isinstance(from_, Alias) else from_
    shared = table.info.get("shared") if isinstance(table, Table) else None
    return shared if isinstance(shared, Shared) else None


def _memberships(shared: Shared, role: str | None = None) -> Select[Any]:
    """The containers the caller is a member of (at `role` or above)."""
    membership = shared.membership
    members = membership.table
    query = select(members.c[membership.key]).where(members.c[membership.member] == _owner_param())
    if role is not None and membership.level(role) > 0:
        query = query.where(members.c.role == any_(array(membership.at_least(role))))
    return query


def _containers(shared: Shared, role: str | None = None) -> Any:
    """`ARRAY(_memberships)`: an InitPlan, computed once per statement, which an index on the
    container column can take even beside the owner's arm of an OR (where `IN (SELECT …)`
    would be a hashed subplan probed row by row)."""
    return func.array(_memberships(shared, role).scalar_subquery())


@dataclass(frozen=True)
class Need:
    """What a statement asks of the caller on one table: to read or to write it, and the least
    role its route declared (`app.core.requires_role`)."""

    write: bool
    role: str | None

    def of(self, shared: Shared) -> str:
        membership = shared.membership
        role = shared.write if self.write else shared.read
        if self.role is not None and membership.level(self.role) > membership.level(role):
            return self.role
        return role


def _rule(from_: FromClause, need: Need, leave: bool = False) -> Any:
    """The condition a row of `from_` meets when the caller may do what `need` says to it.

    A member below the role gets a 403 (`todo_api_permitted` raises), a stranger nothing at
    all, as if the row did not exist. The owner's arm comes first: a caller who shares nothing
    pays one comparison, as before sharing."""
    mine = from_.c.user_id == _owner_param()
    shared = _shared(from_)
    if shared is None:
        return mine
    role = need.of(shared)
    member = from_.c[shared.column] == any_(_containers(shared))
    if shared.membership.level(role) == 0 and not leave:
        return or_(mine, member)
    whens: list[tuple[Any, Any]] = [(mine, true())]
    if leave:  # a member deletes their own membership: they leave
        whens.append((from_.c[shared.membership.member] == _owner_param(), true()))
    allowed = (
        false() if role == OWNER_ROLE else from_.c[shared.column] == any_(_containers(shared, role))
    )
    whens.append((member, func.todo_api_permitted(allowed, literal(role))))
    return case(*whens, else_=false())


def _tenant(table: FromClause, container: Any, need: Need) -> Any:
    """The `user_id` a row written into `container` gets: the container's owner when the caller
    is a member who may write there (a 403 when their role is too low), else the caller (whose
    own container it must then be: the row's foreign key to it says so)."""
    shared = _shared(table)
    assert shared is not None
    membership = shared.membership
    members = membership.table
    role = need.of(shared)
    permitted = func.todo_api_permitted(
        members.c.role == any_(array(membership.at_least(role))) if role != OWNER_ROLE else false(),
        literal(role),
    )
    owner = (
        select(members.c.user_id)
        .where(
            members.c[membership.key] == container,
            members.c[membership.member] == _owner_param(),
            permitted,
        )
        .scalar_subquery()
    )
    return func.coalesce(owner, _owner_param())


def _translates(table: FromClause) -> bool:
    """Whether a write into `table` names a container that may be someone else's."""
    shared = _shared(table)
    return shared is not None and shared.column not in {c.name for c in table.primary_key}


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
    select_: Select[Any], tables: set[Table], need: Need, page: list[Table] | None = None
) -> None:
    """Scope `select_`; when `page` is given (the statement's own SELECT, a page of one shared
    table), that table's rule is left to `_page`, which collects it there."""
    _scope_outer_joins(select_, tables, need)
    froms = select_.get_final_froms()
    table = froms[0] if len(froms) == 1 else None
    if page is not None and isinstance(table, Table) and _is_page(select_, table, tables, need):
        page.append(table)
        return
    criteria = [c for from_ in froms for c in _criteria(from_, tables, need)]
    if criteria:
        select_._where_criteria += tuple(criteria)


def _is_page(select_: Select[Any], table: Table, tables: set[Table], need: Need) -> bool:
    """A page of one shared table read at the least role: its plain columns, ordered by some of
    them, limited; nothing that two arms of a UNION ALL would answer differently (grouping,
    DISTINCT, OFFSET, locking, a CTE that might write)."""
    if table not in tables:
        return False
    shared = _shared(table)
    if shared is None or shared.membership.level(need.of(shared)) != 0:
        return False
    columns = list(select_.selected_columns)
    if (
        select_._limit_clause is None
        or not select_._order_by_clauses
        or select_._offset_clause is not None
        or select_._group_by_clauses
        or select_._having_criteria
        or select_._distinct
        or select_._independent_ctes
        or not all(isinstance(c, Column) and c.table is table for c in columns)
    ):
        return False
    selected = {c.name for c in columns}
    return all(
        getattr(c, "table", None) is table and c.name in selected
        for c in _columns_of(select_._order_by_clauses)
    )


def _pinned(statement: Select[Any], table: Table, column: str) -> Any:
    """What `statement`'s WHERE sets `table.<column>` equal to, if it does."""
    for criterion in statement._where_criteria:
        if isinstance(criterion, BinaryExpression) and criterion.operator is operators.eq:
            left = criterion.left
            if getattr(left, "table", None) is table and getattr(left, "name", None) == column:
                return criterion.right
    return None


def _columns_of(clauses: Sequence[Any]) -> list[Any]:
    found: list[Any] = []
    for clause in clauses:
        visitors.traverse(clause, {}, {"column": found.append})
    return found


def _page(statement: Select[Any], table: Table) -> Select[Any]:
    """A page of `table`'s rows as two pages, `UNION ALL`ed and merged: the caller's own rows,
    and the rows of the containers they are a member of. Each arm keeps its own index (the
    owner's, the container's) and stops at the limit; written as one `user_id = me OR
    <container> = ANY(…)` instead, no index gives the order, and a caller who shares nothing
    would read all their rows to sort them."""
    shared = _shared(table)
    assert shared is not None
    mine = statement.where(table.c.user_id == _owner_param())
    pinned = _pinned(statement, table, shared.column)
    if pinned is not None:
        # One container (`list_id = :id`): whether the caller is a member of it gates the arm
        # as a whole, and the container's own index gives the order.
        member = pinned == any_(_containers(shared))
    else:
        # A semi-join, planned from the memberships' own statistics: a caller who shares
        # nothing finds no membership and reads no row (`= ANY(ARRAY(…))` here would be
        # estimated blind, and scanned).
        member = table.c[shared.column].in_(_memberships(shared))
    theirs = statement.where(member, table.c.user_id != _owner_param())
    both = union_all(mine, theirs).subquery("page")
    adapt = ClauseAdapter(both)
    return (
        select(*(both.c[c.name] for c in statement.selected_columns))
        .order_by(*(adapt.traverse(clause) for clause in statement._order_by_clauses))
        .limit(statement._limit_clause)
    )


def _column_key(key: Any) -> str:
    return str(getattr(key, "key", key))


def _scope_update_or_delete(statement: Update | Delete, tables: set[Table], need: Need) -> None:
    table = statement.table
    if not _owned(table, tables):
        return
    shared = _shared(table)
    # `delete(Model)` names the table annotated with its entity: compare the table itself.
    leave = (
        isinstance(statement, Delete)
        and shared is not None
        and shared.membership.table is table._deannotate()
    )
    statement._where_criteria += (_rule(table, need, leave),)
    if isinstance(statement, Update) and _translates(table):
        assert shared is not None
        values: dict[Any, Any] = dict(statement._values or {})
        moved = [v for k, v in values.items() if _column_key(k) == shared.column]
        if moved:  # into another container: the row follows to that container's owner
            values[table.c.user_id] = _tenant(table, moved[0], need)
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
    names = insert._select_names if insert.select is not None else list(insert._values or {})
    if any(_column_key(name) == "user_id" for name in names or ()):
        raise OwnershipError(
            f"INSERT into owned table {table.name} sets user_id: the kernel stamps the owner"
        )
    shared = _shared(table)
    container: Any = None
    if shared is not None and _translates(table):
        if insert.select is not None:
            keys = [_column_key(name) for name in insert._select_names or ()]
            if shared.column in keys:
                container = list(insert.select.selected_columns)[keys.index(shared.column)]
        else:
            given = [
                v for k, v in (insert._values or {}).items() if _column_key(k) == shared.column
            ]
            container = given[0] if given else None
    owner = _owner_param() if container is None else _tenant(table, container, need)
    if insert.select is not None:
        insert._select_names = [*(insert._select_names or ()), "user_id"]
        insert.select = insert.select.add_columns(owner)
    else:
        values = immutabledict(insert._values or {})  # a plain dict at run time
        insert._values = values.union({table.c.user_id: owner})
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
    page: list[Table] = []
    top = isinstance(statement, Select) and statement._for_update_arg is None

    def scope_select(select_: Select[Any]) -> None:
        mine = top and select_._is_clone_of is statement
        _scope_select(select_, tables, read, page if mine else None)

    scoped = visitors.cloned_traverse(
        statement,
        {},
        {
            "select": scope_select,
            "update": lambda s: _scope_update_or_delete(s, tables, write),
            "delete": lambda s: _scope_update_or_delete(s, tables, write),
            "insert": lambda s: _stamp_insert(s, tables, write),
        },
    )
    if page:
        assert isinstance(scoped, Select)
        return _page(scoped, page[0])
    return scoped


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
