"""Task: T-133, T-215
Spec: specs/api/rest-endpoints.md §Changes, specs/features/plugins.md §Change log

Wake-ups for open streams and after-commit consumers when their changes commit.

The trigger sends `NOTIFY todo_api_changes, '<user id>'` with every change; PostgreSQL delivers it
at commit, to every instance listening. LISTEN needs a session connection, which a transaction
pooler (PgBouncer in transaction mode, Neon's `-pooler` host) cannot give, so the listener
connects to `DATABASE_DIRECT_URL`, or to `DATABASE_URL` when that is not a pooler. One listener
connection per app, however many streams are open, opened with the first subscription.

Without a direct connection, or while the listener is reconnecting, one poller per app reads
which users' changes passed the watermark since its last look, every `poll_seconds`, while
anyone is subscribed. A wake-up carries no data: each subscriber re-reads the log from its own
cursor, so a lost or merged notification costs a read, never a change.
"""

import asyncio
import logging
import math
import time
from collections import defaultdict
from contextlib import suppress

import asyncpg

from app.core import Database, EngineOptions, StatementCache
from app.plugins.changes.queries import POLL

logger = logging.getLogger("todo_api")

CHANNEL = "todo_api_changes"
# How often an idle listener connection is checked: a peer that vanished without closing the
# socket only shows when something is sent.
CHECK_SECONDS = 30
MAX_BACKOFF_SECONDS = 30
# Above every transaction id: the first poll only learns the watermark (and wakes everyone).
_UNSEEN = 2**62


class Subscription:
    """One stream's or consumer's wake-up flag: notifications merge into it, so a burst of
    changes or a slow reader costs no memory; the reader catches up from the log."""

    def __init__(self, notifier: "Notifier", user_id: str | None) -> None:
        self.user_id = user_id  # None: every user's changes (consumers)
        self._notifier = notifier
        self._event = asyncio.Event()

    def wake(self) -> None:
        self._event.set()

    async def wait(self, at_most: float | None = None) -> bool:
        """Until woken (True) or `at_most` seconds passed (False); a wake-up that came before
        counts."""
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation that
        # arrives as the event fires, and a consumer stopped that way would never stop.
        woken = False
        with suppress(TimeoutError):
            async with asyncio.timeout(at_most):
                woken = await self._event.wait()
        self._event.clear()
        return woken

    def close(self) -> None:
        self._notifier.unsubscribe(self)


class Notifier:
    def __init__(
        self, database: Database, listen: EngineOptions | None, poll_seconds: float
    ) -> None:
        self._database = database
        self._listen = listen
        self._poll_seconds = poll_seconds
        self._subscribers: defaultdict[str | None, set[Subscription]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None
        self._since = _UNSEEN
        self.listening = False  # a LISTEN connection is up

    @property
    def subscribed(self) -> int:
        return sum(len(group) for group in self._subscribers.values())

    def subscribe(self, user_id: str | None) -> Subscription:
        subscription = Subscription(self, user_id)
        self._subscribers[user_id].add(subscription)
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="change notifier")
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        group = self._subscribers.get(subscription.user_id)
        if group is not None:
            group.discard(subscription)
            if not group:
                del self._subscribers[subscription.user_id]

    def wake(self, user_id: str) -> None:
        for subscription in (*self._subscribers.get(user_id, ()), *self._subscribers.get(None, ())):
            subscription.wake()

    def wake_all(self) -> None:
        for group in self._subscribers.values():
            for subscription in group:
                subscription.wake()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        backoff = 1.0
        while True:
            if self._listen is not None:
                try:
                    await self._listen_until_lost()
                    backoff = 1.0
                except Exception as exc:  # whatever broke it, the feed goes on by polling
                    logger.warning(
                        "change feed: cannot LISTEN (%s); polling, retrying in %.0f s",
                        type(exc).__name__,
                        backoff,
                    )
            # No listener (none possible, or lost): poll meanwhile, so nothing waits for long.
            await self._poll_for(backoff if self._listen is not None else math.inf)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)

    async def _listen_until_lost(self) -> None:
        assert self._listen is not None
        kwargs = self._listen.connect_kwargs(StatementCache.off)
        connection = await asyncpg.connect(**kwargs, timeout=5)
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _: lost.set())
        try:
            await connection.add_listener(CHANNEL, self._notified)
            self.listening = True
            self.wake_all()  # whatever committed while nobody was listening
            while not lost.is_set():
                try:
                    async with asyncio.timeout(CHECK_SECONDS):
                        await lost.wait()
                except TimeoutError:
                    await connection.fetchval("SELECT 1", timeout=5)
        finally:
            self.listening = False
            connection.terminate()

    def _notified(self, connection: object, pid: int, channel: str, payload: str) -> None:
        self.wake(payload)

    async def _poll_for(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        self._since = _UNSEEN
        while time.monotonic() < deadline:
            if not self._subscribers:
                self._since = _UNSEEN  # the next subscriber reads the log first anyway
            else:
                try:
                    await self._poll()
                except Exception as exc:  # tried again next interval
                    logger.info("change feed: polling failed (%s)", type(exc).__name__)
            await asyncio.sleep(self._poll_seconds)

    async def _poll(self) -> None:
        row = await self._database.fetchrow(POLL, since=self._since)
        assert row is not None
        if self._since == _UNSEEN:
            self.wake_all()
        else:
            for user_id in row["users"]:
                self.wake(user_id)
        self._since = row["xmin"]
