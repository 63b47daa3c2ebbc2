"""Task: T-017, T-140, T-151, T-273, T-279, T-393
Spec: specs/features/plugins.md §Writing a plugin

An example third-party plugin: a user's private notes.

Everything it needs comes from `app.core`: the hook marker, the ownership mixin and the
user-scoped database, and the `api` of the `changes` plugin it requires, for its journal. Its routes are protected without asking (the kernel adds authentication
to every route not marked `@public`), and its statements need no `WHERE user_id = …`: sent
through `OwnedDB`, statements on `Owned` tables see the caller's rows only, and inserts are
stamped with the caller. Statements are built once, at import; values are bind parameters.

It also listens to another plugin: an after-commit consumer of the change log journals every
task completed, as a note ("Completed: <title>"), in the transaction that moves its cursor.
Its own notes reach the change feed without a line of code: `Note` is `Owned`.

Its OpenAPI operations (`notes_list`, `notes_create`) get their 400/401/413/422/503 answers,
problem bodies and `X-Request-ID` from the kernel; the models document their fields with
docstrings and an example (`documented`).
"""

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field
from sqlalchemy import Column, DateTime, bindparam, delete, insert, select
from sqlmodel import Field as ModelField
from sqlmodel import SQLModel

from app.core import (
    Context,
    Executor,
    Owned,
    OwnedDB,
    Transaction,
    documented,
    hookimpl,
    json_response,
)
from app.plugins.changes.api import AfterCommit, Change


class Note(Owned, table=True):
    __tablename__ = "notes"

    id: str = ModelField(default_factory=lambda: str(uuid.uuid4()), primary_key=True)
    body: str
    created_at: datetime = ModelField(
        default_factory=lambda: datetime.now(UTC),
        sa_column=Column(DateTime(timezone=True), nullable=False),
    )


EXAMPLE = {"body": "Call the plumber about the kitchen tap"}


class NoteIn(BaseModel):
    """A new note."""

    model_config = documented(EXAMPLE)

    body: str = Field(min_length=1, max_length=1000)
    """What to remember, 1 to 1000 characters."""


class NoteOut(BaseModel):
    """A note."""

    model_config = documented(
        {
            "id": "5d1c7e0a-2b7f-4c1e-8f0a-6b9e2d3c4a51",
            **EXAMPLE,
            "created_at": "2030-01-01T09:00:00Z",
        }
    )

    id: str
    """The note's id."""
    body: str
    """What to remember."""
    created_at: datetime
    """When it was written (UTC)."""


LIST = select(Note.id, Note.body, Note.created_at).order_by(Note.created_at)
CREATE = insert(Note).values(
    id=bindparam("id"), body=bindparam("body"), created_at=bindparam("created_at")
)


def build_router(context: Context) -> APIRouter:
    router = APIRouter(prefix="/notes", tags=["notes"])

    @router.get(
        "",
        name="list",
        summary="List your notes",
        response_model=list[NoteOut],
        description="Answers your notes, oldest first.",
    )
    async def list_notes(db: OwnedDB) -> Response:
        return json_response([NoteOut.model_validate(dict(row)) for row in await db.fetch(LIST)])

    @router.post(
        "",
        name="create",
        summary="Write a note",
        status_code=status.HTTP_201_CREATED,
        response_model=NoteOut,
        description="Writes a note and answers it.",
    )
    async def create_note(note: NoteIn, db: OwnedDB) -> Response:
        created = NoteOut(id=str(uuid.uuid4()), body=note.body, created_at=datetime.now(UTC))
        await db.execute(CREATE, **created.model_dump())
        return json_response(created, status.HTTP_201_CREATED)

    return router


@hookimpl
def routers(context: Context) -> Sequence[APIRouter]:
    return [build_router(context)]


@hookimpl
def models() -> Sequence[type[SQLModel]]:
    return [Note]


# `notes.user_id` has no foreign key to `users` (any authentication plugin may own the user), so
# the auth plugin's account deletion asks for the notes to be deleted; with `auth` disabled the
# hook is simply not called (`optionalhook`).
FORGET = delete(Note)


async def forget(transaction: Executor, user_id: str) -> None:
    await transaction.owned(user_id).execute(FORGET)


@hookimpl(optionalhook=True)
def after_account_deletion(context: Context) -> Callable[[Executor, str], Awaitable[None]]:
    return forget


@hookimpl(optionalhook=True)
def account_export(context: Context) -> Mapping[str, tuple[Any, Any]]:
    return {"notes": (select(Note.__table__), Note.__table__.c.id)}  # type: ignore[attr-defined]


def _just_completed(task: Mapping[str, Any] | None) -> bool:
    # Completing sets completed_at and updated_at to one instant; a later edit of a completed
    # task moves updated_at only.
    return bool(task and task["completed"] and task["completed_at"] == task["updated_at"])


async def journal(transaction: Transaction, changes: Sequence[Change]) -> None:
    for change in changes:
        if change.op == "update" and _just_completed(change.data):
            assert change.data is not None
            body = f"Completed: {change.data['title']}"
            note = NoteOut(id=str(uuid.uuid4()), body=body, created_at=datetime.now(UTC))
            await transaction.owned(change.user_id).execute(CREATE, **note.model_dump())


@hookimpl
def requires() -> Sequence[str]:
    # The journal is a consumer of the change log.
    return ["changes"]


@hookimpl
def subscriptions(context: Context) -> Sequence[AfterCommit]:
    return [AfterCommit("notes-journal", frozenset({"tasks"}), journal)]
