"""Task: T-022, T-102
Spec: specs/features/authentication.md §Passwords

argon2id password hashing: off the event loop, never holding a database connection, and at
most one hash per core at a time.

Hashing is deliberately slow (tens of milliseconds of CPU and 19 MiB each); done on the loop, a
burst of logins would stall every other request. `asyncio.to_thread` runs it in a worker thread,
and argon2 releases the GIL while it works. More hashes at once than cores only make each one
slower and take more memory, so a semaphore sized to the cores admits them; the others wait in
line, and one that waits longer than `hashing_queue_seconds` is answered 503 with `Retry-After`
instead of piling up behind a flood.
"""

import asyncio
import os
from collections.abc import Callable
from functools import cache
from math import ceil
from typing import TypeVar

from fastapi import HTTPException, status
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

T = TypeVar("T")

# OWASP's argon2id recommendation: 19 MiB of memory, 2 iterations, 1 degree of parallelism.
HASHER = PasswordHash((Argon2Hasher(memory_cost=19_456, time_cost=2, parallelism=1),))


@cache
def _dummy_hash() -> str:
    return HASHER.hash("not a real password: timing equaliser")


def _verify_dummy(password: str) -> bool:
    return HASHER.verify(password, _dummy_hash())


class Passwords:
    """Hashes and verifies passwords for one app, `os.cpu_count()` at a time."""

    def __init__(self, queue_seconds: float) -> None:
        self.queue_seconds = queue_seconds
        self._slots = asyncio.Semaphore(os.cpu_count() or 1)

    async def hash(self, password: str) -> str:
        return await self._run(HASHER.hash, password)

    async def verify(self, password: str, hashed: str | None) -> tuple[bool, str | None]:
        """Check `password`; also return a new hash when the parameters changed since `hashed`.

        With no hash (unknown email, or an account without a password) a dummy hash is verified,
        so the answer takes about as long as for a wrong password.
        """
        if hashed is None:
            await self._run(_verify_dummy, password)
            return False, None
        return await self._run(HASHER.verify_and_update, password, hashed)

    async def _run(self, work: Callable[..., T], *args: str) -> T:
        try:
            async with asyncio.timeout(self.queue_seconds):
                await self._slots.acquire()
        except TimeoutError:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                "Too many logins at once; retry shortly",
                headers={"Retry-After": str(ceil(self.queue_seconds))},
            ) from None
        try:
            return await asyncio.to_thread(work, *args)
        finally:
            self._slots.release()
