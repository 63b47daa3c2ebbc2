"""Task: T-112, T-446
Spec: specs/features/plugins.md §Testing

Waiting for background work: a job worker, an after-commit consumer or a webhook delivery
finishes in its own time, so a test waits for what it did, not for a fixed while.
"""

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable

# Often enough that a test does not idle, rarely enough not to crowd the machine it waits on.
INTERVAL_SECONDS = 0.05


async def eventually(check: Callable[[], object | Awaitable[object]], seconds: float = 20) -> None:
    """Wait until `check()` (a plain or an async callable) returns something true; fail after
    `seconds`, generous because a shared machine may run the work late."""
    deadline = time.monotonic() + seconds
    while True:
        held = check()
        if await held if inspect.isawaitable(held) else held:
            return
        assert time.monotonic() < deadline, f"not within {seconds} s"
        await asyncio.sleep(INTERVAL_SECONDS)
