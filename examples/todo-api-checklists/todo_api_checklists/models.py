"""Task: T-124
Spec: specs/features/plugins.md §Writing a plugin

The checklist_items table: the items of a task. `Owned` adds `user_id`: every statement sent
through `OwnedDB` is scoped to the caller by the kernel, and every INSERT is stamped with them.

The table itself is created by the migration in `migrations/versions`, never from this model.
"""

from datetime import datetime

from sqlalchemy import Boolean, Column, DateTime, Text
from sqlmodel import Field

from app.core import Owned, new_id, utcnow


class ChecklistItem(Owned, table=True):
    __tablename__ = "checklist_items"

    id: str = Field(default_factory=new_id, primary_key=True)
    task_id: str = Field(sa_column=Column(Text, nullable=False))
    title: str = Field(sa_column=Column(Text, nullable=False))
    done: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
