"""Task: T-013, T-208
Spec: specs/features/plugins.md §Hooks

The shape of a readiness check contributed through the `readiness_checks` hook.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.core.db.pool import Database


@dataclass(frozen=True)
class Count:
    """What a check answers when all is well but an operator should see a number (items set
    aside): the instance stays ready, and `GET /health/ready` reports `counts[name]`."""

    name: str
    value: int


# Awaited by GET /api/v1/health/ready; returns None when fine, a `Count` to report while
# ready, else what is wrong (one line: not ready).
ReadinessCheck = Callable[["Database"], Awaitable[str | Count | None]]
