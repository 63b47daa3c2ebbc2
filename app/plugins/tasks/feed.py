"""Task: T-136, T-286
Spec: specs/api/rest-endpoints.md §Changes

How the change feed shows a task and a list: exactly as `GET /tasks/{id}` and `GET /lists/{id}` do, from the row the change
log recorded (`to_jsonb`: datetimes with the writer's offset, which become UTC here).
"""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from app.plugins.tasks.schemas import ListOut, TaskOut


def _json(model: type[BaseModel], row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        name: value.astimezone(UTC) if isinstance(value, datetime) else value
        for name, value in model.model_validate(row)
    }


def task_json(row: Mapping[str, Any]) -> dict[str, Any]:
    return _json(TaskOut, row)


def list_json(row: Mapping[str, Any]) -> dict[str, Any]:
    return _json(ListOut, row)
