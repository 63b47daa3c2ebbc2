"""Task: T-136, T-286, T-335, T-350
Spec: specs/api/rest-endpoints.md §Changes; specs/features/sharing.md §Members and invitations

How the change feed shows a task and a list: exactly as `GET /tasks/{id}` and `GET /lists/{id}` do, from the row the change
log recorded (`to_jsonb`: datetimes with the writer's offset, which become UTC here). A list's
entry has its `owner_id` (the row's `user_id`) but not the reader's `role`: one entry serves
every member.

A task recorded before tasks had actors (tasks_0006) was written by its owner, as that
migration's backfill says of the stored row: the feed says the same.
"""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from app.plugins.tasks.schemas import ListRow, TaskOut


def _json(model: type[BaseModel], row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        name: value.astimezone(UTC) if isinstance(value, datetime) else value
        for name, value in model.model_validate(row)
    }


def task_json(row: Mapping[str, Any]) -> dict[str, Any]:
    if "created_by" not in row:  # recorded before tasks_0006
        owner = row.get("user_id")
        completed_by = owner if row.get("completed") else None
        row = {"created_by": owner, "updated_by": owner, "completed_by": completed_by, **row}
    return _json(TaskOut, row)


def list_json(row: Mapping[str, Any]) -> dict[str, Any]:
    return _json(ListRow, {**row, "owner_id": row["user_id"]})
