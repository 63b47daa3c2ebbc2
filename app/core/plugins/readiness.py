"""Task: T-013
Spec: specs/features/plugins.md §Hooks

The shape of a readiness check contributed through the `readiness_checks` hook.
"""

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.core.db.pool import Database

# Awaited by GET /api/v1/health/ready; returns None when fine, else what is wrong (one line).
ReadinessCheck = Callable[["Database"], Awaitable[str | None]]
