"""Task: T-098
Spec: specs/api/rest-endpoints.md §Speed

A login storm beside the list: `GET /tasks` p99 with no logins, then while 30 clients log in
without pause (argon2id, 19 MiB and tens of milliseconds of CPU each). Hashing is bounded and
holds no database connection, so the storm must leave the list's p99 under 2x idle and the
worker's RSS under 150 MB.
"""

import asyncio
import secrets
from pathlib import Path

import httpx

from bench import peers

STORMERS = 30


async def _storm(base: str, email: str, password: str, stop: asyncio.Event) -> int:
    """Log in with `STORMERS` clients until `stop`; return how many logins were answered."""
    answered = 0
    credentials = {"email": email, "password": password}
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:

        async def stormer() -> None:
            nonlocal answered
            while not stop.is_set():
                await client.post("/api/v1/auth/login", json=credentials)
                answered += 1

        await asyncio.gather(*(stormer() for _ in range(STORMERS)))
    return answered


async def list_during_storm(
    base: str, tokens: Path, seconds: float
) -> tuple[peers.Throughput, peers.Throughput, int]:
    """The list's throughput idle and during a storm, and how many storm logins were answered."""
    email, password = f"storm-{secrets.token_hex(4)}@example.com", secrets.token_urlsafe(16)
    async with httpx.AsyncClient(base_url=base) as client:
        registered = await client.post(
            "/api/v1/auth/register", json={"email": email, "password": password}
        )
        registered.raise_for_status()
    idle = await peers.wrk(base, tokens, seconds, 32)
    stop = asyncio.Event()
    storm = asyncio.create_task(_storm(base, email, password, stop))
    await asyncio.sleep(1)  # the storm under way before measuring
    stormy = await peers.wrk(base, tokens, seconds, 32)
    stop.set()
    return idle, stormy, await storm
