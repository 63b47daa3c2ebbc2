"""Task: T-136
Spec: specs/api/rest-endpoints.md §Changes

How the change feed shows a task: exactly as `GET /tasks/{id}` does, from the row the change
log recorded (`to_jsonb`: datetimes with the writer's offset, which become UTC here).
"""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from app.plugins.tasks.schemas import TaskOut


def task_json(row: Mapping[str, Any]) -> dict[str, Any]:
    task = TaskOut.model_validate(row)
    return {
        name: value.astimezone(UTC) if isinstance(value, datetime) else value
        for name, value in task
    }

