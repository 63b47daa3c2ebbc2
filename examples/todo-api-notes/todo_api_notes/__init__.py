"""Task: T-017
Spec: specs/features/plugins.md §Writing a plugin

An example third-party plugin: a user's private notes.

Everything it needs comes from `app.core`: the hook marker, the ownership mixin and the
user-scoped session. Its routes are protected without asking (the kernel adds authentication to
every route not marked `@public`), and its queries need no `WHERE user_id = …`: `Owned` rows
read through an `OwnedSession` are the caller's only, and new ones are stamped with the caller.
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from fastapi import APIRouter, status
from pydantic import BaseModel, Field
from sqlalchemy import Column, DateTime, select
from sqlmodel import Field as ModelField
from sqlmodel import SQLModel

from app.core import Context, Owned, OwnedSession, hookimpl


class Note(Owned, table=True):
    __tablename__ = "notes"

    id: str = ModelField(default_factory=lambda: str(uuid.uuid4()), primary_key=True)
    body: str
    created_at: datetime = ModelField(
        default_factory=lambda: datetime.now(UTC),
        sa_column=Column(DateTime(timezone=True), nullable=False),
    )


class NoteIn(BaseModel):
    body: str = Field(min_length=1, max_length=1000)


class NoteOut(BaseModel):
    id: str
    body: str
    created_at: datetime


router = APIRouter(prefix="/notes", tags=["notes"])


@router.get("")
async def list_notes(session: OwnedSession) -> list[NoteOut]:
    rows = await session.scalars(select(Note).order_by(Note.created_at))
    return [NoteOut.model_validate(row, from_attributes=True) for row in rows]


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_note(note: NoteIn, session: OwnedSession) -> NoteOut:
    row = Note(body=note.body)
    session.add(row)
    await session.commit()
    return NoteOut.model_validate(row, from_attributes=True)


@hookimpl
def routers(context: Context) -> Sequence[APIRouter]:
    return [router]


@hookimpl
def models() -> Sequence[type[SQLModel]]:
    return [Note]
