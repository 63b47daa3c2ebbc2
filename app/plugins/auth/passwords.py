"""Task: T-022, T-102
Spec: specs/features/authentication.md §Passwords

argon2id password hashing: off the event loop, never holding a database connection, and on at
most half the cores at a time.

Hashing is deliberately slow (tens of milliseconds of CPU and 19 MiB each); done on the loop, a
burst of logins would stall every other request. `asyncio.to_thread` runs it in a worker thread,
and argon2 releases the GIL while it works. Hashes on every core at once would leave nothing
for the event loop (and PostgreSQL beside it): measured with a 30-login storm on 2 cores, the
list's p99 tripled. So a semaphore sized to half the cores (at least one) admits hashes; the
others wait in line, and one that waits longer than `hashing_queue_seconds` is answered 503
with `Retry-After` instead of piling up behind a flood.
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
    """Hashes and verifies passwords for one app, on half the cores at a time."""

    def __init__(self, queue_seconds: float) -> None:
        self.queue_seconds = queue_seconds
        # Half the cores (at least one): the rest keep serving requests.
        self._slots = asyncio.Semaphore(max(1, (os.cpu_count() or 1) // 2))

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
