"""Task: T-320, T-321, T-458
Spec: specs/features/sharing.md §The access rule

The access rule of shared lists: a `Shared` table's rows are reached by their owner and by the
members of the list (the container) each row names, at the member's role. `Shared` is the
kernel's `Access` for these tables: the kernel's scoping writes what it returns into every
statement. A member below the role a statement needs makes `todo_api_permitted` (migration
tasks_0007) raise the kernel's `FORBIDDEN_SQLSTATE`: a 403.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    Table,
    any_,
    case,
    false,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.sql import operators, visitors
from sqlalchemy.sql.elements import BinaryExpression
from sqlalchemy.sql.selectable import FromClause, Select
from sqlalchemy.sql.util import ClauseAdapter

from app.core import OWNER_ROLE, Membership, Need, caller


def _containers(membership: Membership, role: str | None = None) -> Select[Any]:
    """The containers the caller is a member of (at `role` or above)."""
    members = membership.table
    query = select(members.c[membership.key]).where(members.c[membership.member] == caller())
    if role is not None and membership.level(role) > 0:
        query = query.where(members.c.role == any_(array(membership.at_least(role))))
    return query


def _array(membership: Membership, role: str | None = None) -> Any:
    """`ARRAY(_containers)`: an InitPlan, computed once per statement, which an index on the
    container column can take even beside the owner's arm of an OR (where `IN (SELECT …)`
    would be a hashed subplan probed row by row)."""
    return func.array(_containers(membership, role).scalar_subquery())


@dataclass(frozen=True)
class Shared:
    """An `Owned` table's `Access` (its `info["access"]`): its rows are reached by the members
    of the container its `column` names (a list: `LIST_MEMBERS`), reading at `read` or above
    and writing at `write` or above. The row's `user_id` is the container's owner, whoever
    wrote it."""

    membership: Membership
    column: str
    read: str
    write: str

    def __post_init__(self) -> None:
        self.membership.level(self.read)
        self.membership.level(self.write)

    def role(self, need: Need) -> str:
        """The least role `need` takes: the table's, or the route's when that is higher."""
        role = self.write if need.write else self.read
        if need.role is not None and self.membership.level(need.role) > self.membership.level(role):
            return need.role
        return role

    def rule(self, table: FromClause, need: Need) -> Any:
        """A member below the role gets a 403 (`todo_api_permitted` raises), a stranger nothing
        at all, as if the row did not exist. The owner's arm comes first: a caller who shares
        nothing pays one comparison, as before sharing."""
        mine = table.c.user_id == caller()
        role = self.role(need)
        member = table.c[self.column] == any_(_array(self.membership))
        # A member deletes their own membership: they leave. (`delete(Model)` names the table
        # annotated with its entity: compare the table itself.)
        leave = need.delete and self.membership.table is table._deannotate()
        if self.membership.level(role) == 0 and not leave:
            return or_(mine, member)
        whens: list[tuple[Any, Any]] = [(mine, true())]
        if leave:
            whens.append((table.c[self.membership.member] == caller(), true()))
        allowed = (
            false()
            if role == OWNER_ROLE
            else table.c[self.column] == any_(_array(self.membership, role))
        )
        whens.append((member, func.todo_api_permitted(allowed, literal(role))))
        return case(*whens, else_=false())

    def owner(self, table: FromClause, values: dict[str, Any], need: Need) -> Any:
        """A row written into a container (`values` name it) belongs to the container's owner
        when the caller is a member who may write there (a 403 when their role is too low), else
        to the caller (whose own container it must then be: the row's foreign key to it says
        so). A table whose key is the container (the list itself) never moves."""
        container = values.get(self.column)
        if container is None or self.column in {c.name for c in table.primary_key}:
            return None
        members = self.membership.table
        role = self.role(need)
        permitted = func.todo_api_permitted(
            members.c.role == any_(array(self.membership.at_least(role)))
            if role != OWNER_ROLE
            else false(),
            literal(role),
        )
        owner = (
            select(members.c.user_id)
            .where(
                members.c[self.membership.key] == container,
                members.c[self.membership.member] == caller(),
                permitted,
            )
            .scalar_subquery()
        )
        return func.coalesce(owner, caller())

    def page(self, statement: Select[Any], table: Table, need: Need) -> Select[Any] | None:
        """A page of the table read at the least role, as two pages `UNION ALL`ed and merged:
        the caller's own rows, and the rows of the containers they are a member of. Each arm
        keeps its own index (the owner's, the container's) and stops at the limit; written as
        one `user_id = me OR <container> = ANY(…)` instead, no index gives the order, and a
        caller who shares nothing would read all their rows to sort them."""
        if self.membership.level(self.role(need)) != 0 or not _is_page(statement, table):
            return None
        mine = statement.where(table.c.user_id == caller())
        pinned = _pinned(statement, table, self.column)
        if pinned is not None:
            # One container (`list_id = :id`): whether the caller is a member of it gates the
            # arm as a whole, and the container's own index gives the order.
            member = pinned == any_(_array(self.membership))
        else:
            # A semi-join, planned from the memberships' own statistics: a caller who shares
            # nothing finds no membership and reads no row (`= ANY(ARRAY(…))` here would be
            # estimated blind, and scanned).
            member = table.c[self.column].in_(_containers(self.membership))
        theirs = statement.where(member, table.c.user_id != caller())
        both = union_all(mine, theirs).subquery("page")
        adapt = ClauseAdapter(both)
        return (
            select(*(both.c[c.name] for c in statement.selected_columns))
            .order_by(*(adapt.traverse(clause) for clause in statement._order_by_clauses))
            .limit(statement._limit_clause)
        )


def _is_page(statement: Select[Any], table: Table) -> bool:
    """Whether `statement` is a page of `table`: its plain columns, ordered by some of them,
    limited; nothing that two arms of a UNION ALL would answer differently (grouping, DISTINCT,
    OFFSET, locking, a CTE that might write)."""
    columns = list(statement.selected_columns)
    if (
        statement._limit_clause is None
        or not statement._order_by_clauses
        or statement._offset_clause is not None
        or statement._group_by_clauses
        or statement._having_criteria
        or statement._distinct
        or statement._independent_ctes
        or not all(isinstance(c, Column) and c.table is table for c in columns)
    ):
        return False
    selected = {c.name for c in columns}
    return all(
        getattr(c, "table", None) is table and c.name in selected
        for c in _columns_of(statement._order_by_clauses)
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
