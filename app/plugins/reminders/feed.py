"""Task: T-186
Spec: specs/features/reminders.md §Delivery

How the change feed shows a reminder and an inbox item: exactly as the API does, from the row
the change log recorded (`to_jsonb`: datetimes with the writer's offset, which become UTC here).
The webhooks plugin maps an inbox item's `create` to its `reminder.fired` event.
"""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from app.plugins.reminders.schemas import InboxItemOut, ReminderOut


def _json(model: BaseModel) -> dict[str, Any]:
    return {
        name: value.astimezone(UTC) if isinstance(value, datetime) else value
        for name, value in model
    }


def reminder_json(row: Mapping[str, Any]) -> dict[str, Any]:
    return _json(ReminderOut.of(row))


def inbox_json(row: Mapping[str, Any]) -> dict[str, Any]:
    return _json(InboxItemOut.model_validate(row))


SERIALIZERS = {"reminders": reminder_json, "reminders_inbox": inbox_json}
