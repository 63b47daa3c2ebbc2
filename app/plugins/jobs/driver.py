"""Task: T-164
Spec: specs/features/jobs.md §Behind a transaction pooler

PgQueuer's `Driver`, split in two: statements go through the app's asyncpg pool (whatever
`DATABASE_URL` is, Neon's `-pooler` included: each of PgQueuer's statements stands alone), and
LISTEN goes to a connection of its own on the direct URL — or nowhere, when there is none, since
a LISTEN sent through a transaction pooler succeeds and then hears nothing (or hears for another
client). Without it the worker polls every `poll_seconds`.
"""

import asyncio
from typing import Self

import asyncpg
from pgqueuer import AsyncpgDriver, AsyncpgPoolDriver
from pgqueuer.core.tm import TaskManager
from pgqueuer.ports.driver import NotifyCallback


class SplitDriver:
    def __init__(self, pool: asyncpg.Pool, listener: asyncpg.Connection | None) -> None:
        self._statements = AsyncpgPoolDriver(pool)
        self._listener = AsyncpgDriver(listener) if listener is not None else None
        # Set once LISTEN is in place (at once when there is nothing to listen on).
        self._listening = asyncio.Event()
        if listener is None:
            self._listening.set()

    async def fetch(self, query: str, *args: object) -> list[dict[str, object]]:
        return await self._statements.fetch(query, *args)

    async def execute(self, query: str, *args: object) -> str:
        return await self._statements.execute(query, *args)

    async def notify(self, channel: str, payload: str) -> None:
        # PgQueuer probes its listener with a NOTIFY as it starts, racing its own LISTEN on the
        # other connection: a probe that wins is never heard, the instance counts as failed
        # after 10 s and is restarted, racing again. So nothing is sent before LISTEN is in.
        await self._listening.wait()
        await self._statements.notify(channel, payload)

    async def add_listener(self, channel: str, callback: NotifyCallback) -> None:
        if self._listener is not None:
            await self._listener.add_listener(channel, callback)
        self._listening.set()

    async def remove_listener(self, channel: str, callback: NotifyCallback) -> None:
        if self._listener is not None:
            await self._listener.remove_listener(channel, callback)

    @property
    def shutdown(self) -> asyncio.Event:
        return self._statements.shutdown

    @property
    def tm(self) -> TaskManager:
        return self._statements.tm

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        """The pool is the app's and the listener the worker's: nothing of ours to close."""
