"""Task: T-031
Spec: specs/features/plugins.md §Isolation

Isolation by construction: rows of an `Owned` model are visible to, and changeable by, their
owner only, whatever query a plugin writes.

A route takes `OwnedSession` instead of `Session`; it is the same request session, tagged
with the current user's id. Two listeners on every ORM session then do the rest:

- `do_orm_execute` adds `with_loader_criteria(Owned, user_id == <owner>)` to every ORM SELECT,
  UPDATE and DELETE, including joins, aliases and relationship loads. A statement that touches
  an `Owned` model in a session without an owner raises `OwnershipError` (deny by default),
  and so does a bulk `insert(Model)`, which would skip the stamping below.
- `before_flush` stamps the owner on new `Owned` rows and refuses any pending row (new, changed
  or deleted) whose `user_id` is someone else's.

Plain SQL (`text(...)`) is not filtered: it is the explicit escape hatch for maintenance work
that is not on behalf of a user.
"""

from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import Delete, Select, Update, event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, with_loader_criteria
from sqlalchemy.orm import Session as SyncSession
from sqlmodel import Field, SQLModel

from app.core.dependencies import CurrentUser, Session

OWNER_KEY = "todo_api.owner_id"


class OwnershipError(RuntimeError):
    """A query or write on an `Owned` model that is not scoped to the session's owner."""


class Owned(SQLModel):
    """Mixin for user-owned table models: adds `user_id` and the per-user scoping.

    The foreign key to `users.id` (ON DELETE CASCADE) and the indexes belong in the plugin's
    migration, which is where tables are created.
    """

    user_id: str = Field(default=None, nullable=False)


def set_owner(session: AsyncSession | SyncSession, user_id: str) -> None:
    """Scope `session` to `user_id` (what `OwnedSession` does; also for scripts and tests)."""
    session.info[OWNER_KEY] = user_id


def owner_of(session: AsyncSession | SyncSession) -> str | None:
    return session.info.get(OWNER_KEY)


async def _owned_session(session: Session, user: CurrentUser) -> AsyncSession:
    # `Session` is cached per request, so this is the very session `CurrentUser` used.
    set_owner(session, user.id)
    return session


OwnedSession = Annotated[AsyncSession, Depends(_owned_session)]


def _is_owned(cls: Any) -> bool:
    return isinstance(cls, type) and issubclass(cls, Owned)


def _owned_tables(base: type = Owned) -> list[type]:
    """Every mapped `Owned` model, including ones defined after start-up."""
    found: list[type] = []
    for cls in base.__subclasses__():
        if "__table__" in vars(cls):
            found.append(cls)
        found.extend(_owned_tables(cls))
    return found


@event.listens_for(SyncSession, "do_orm_execute")
def _scope_statement(state: ORMExecuteState) -> None:
    # Relationship and column loads inherit the criteria of the statement that started them.
    if state.is_column_load or state.is_relationship_load:
        return
    touched = [mapper.class_.__name__ for mapper in state.all_mappers if _is_owned(mapper.class_)]
    if state.is_insert and touched:
        raise OwnershipError(
            f"bulk INSERT on owned model {touched[0]}: add instances with session.add() so the "
            "owner is stamped"
        )
    owner = owner_of(state.session)
    if owner is None:
        if touched:
            raise OwnershipError(
                f"query on owned model {touched[0]} in a session without an owner: "
                "use app.core.OwnedSession"
            )
        return
    if isinstance(state.statement, Select | Update | Delete):
        # Per mapped class rather than `Owned` itself: the pydantic mixin has no column
        # attributes to build the criteria from. Every owned model gets it, so an owned
        # table in a subquery is scoped as well as one at the top level.
        state.statement = state.statement.options(
            *(
                with_loader_criteria(cls, lambda c: c.user_id == owner, include_aliases=True)
                for cls in _owned_tables()
            )
        )


@event.listens_for(SyncSession, "before_flush")
def _stamp_owner(session: SyncSession, flush_context: Any, instances: Any) -> None:
    pending = (*session.new, *session.dirty, *session.deleted)
    owned = [row for row in pending if _is_owned(type(row))]
    if not owned:
        return
    owner = owner_of(session)
    if owner is None:
        raise OwnershipError(
            f"write to owned model {type(owned[0]).__name__} in a session without an owner: "
            "use app.core.OwnedSession"
        )
    for row in owned:
        if row in session.new and row.user_id is None:
            row.user_id = owner
        elif row.user_id != owner:
            raise OwnershipError(f"{type(row).__name__} row belongs to another user")
