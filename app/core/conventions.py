"""Task: T-111
Spec: specs/features/plugins.md §Conventions

The two values every plugin makes the same way: the time (UTC, aware, answered in RFC 3339
with `Z`) and a new row id (a uuid4, as text).
"""

import uuid
from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, in UTC: store `timestamptz`, answer `2030-01-02T03:04:05Z` (pydantic does)."""
    return datetime.now(UTC)


def new_id() -> str:
    """A new row id: a random uuid4 as text, chosen before the INSERT is sent (so a retried
    INSERT recognises its own row with `ON CONFLICT (id) DO NOTHING`)."""
    return str(uuid.uuid4())
