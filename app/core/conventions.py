"""Task: T-111, T-430
Spec: specs/features/plugins.md §Conventions

The values every plugin makes the same way: the time, a new row id, a missing row's 404, and
the stored form of a secret token.
"""

import hashlib
import uuid
from datetime import UTC, datetime
from typing import TypeVar

from fastapi import HTTPException, status

T = TypeVar("T")


def utcnow() -> datetime:
    """Now, in UTC: store `timestamptz`, answer `2030-01-02T03:04:05Z` (pydantic does)."""
    return datetime.now(UTC)


def new_id() -> str:
    """A new row id: a random uuid4 as text, chosen before the INSERT is sent (so a retried
    INSERT recognises its own row with `ON CONFLICT (id) DO NOTHING`)."""
    return str(uuid.uuid4())


def is_id(value: str) -> bool:
    """Whether `value` could be a row id (a UUID)."""
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def id_or_404(value: str, what: str) -> str:
    """`value`, a path id, if it could name a row; else the 404 a missing row gets ("<what> not
    found"), never a 422: a malformed id names no row, just as another user's does."""
    if not is_id(value):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"{what} not found")
    return value


def one_or_404(row: T | None, what: str) -> T:
    """`row`, if a statement found it; else the 404 "<what> not found" (another user's row is
    not found either: owned statements never see it)."""
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"{what} not found")
    return row


def secret_digest(secret: str) -> str:
    """How a high-entropy secret (a token shown once) is stored and looked up: its SHA-256, in
    hex. A slow hash adds nothing at 256 random bits, and a leaked row cannot be replayed."""
    return hashlib.sha256(secret.encode()).hexdigest()
