"""Task: T-022
Spec: specs/features/authentication.md §Passwords

argon2id password hashing, off the event loop.

Hashing is deliberately slow (tens of milliseconds of CPU); done on the loop, a burst of logins
would stall every other request. `asyncio.to_thread` runs it in the default executor, and
argon2 releases the GIL while it works.
"""

import asyncio
from functools import cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

# OWASP's argon2id recommendation: 19 MiB of memory, 2 iterations, 1 degree of parallelism.
HASHER = PasswordHash((Argon2Hasher(memory_cost=19_456, time_cost=2, parallelism=1),))


@cache
def _dummy_hash() -> str:
    return HASHER.hash("not a real password: timing equaliser")


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(HASHER.hash, password)


async def verify_password(password: str, hashed: str | None) -> tuple[bool, str | None]:
    """Check `password`; also return a new hash when the parameters changed since `hashed`.

    With no hash (unknown email, or an account without a password) a dummy hash is verified,
    so the answer takes about as long as for a wrong password.
    """
    if hashed is None:
        await asyncio.to_thread(HASHER.verify, password, await asyncio.to_thread(_dummy_hash))
        return False, None
    return await asyncio.to_thread(HASHER.verify_and_update, password, hashed)
