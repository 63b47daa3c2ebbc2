"""Task: T-183, T-184
Spec: specs/features/reminders.md §Firing exactly once, §The clock, §Following the task

How reminders fire, and how they follow their tasks.

- Each pending reminder with a `fire_at` has a job (`reminders.fire`) deferred for that time,
  in the transaction that created or moved it; the job fires it with one statement (`FIRE`),
  which fires nothing unless the reminder is pending, due by the plugin's clock and its task not
  completed. A periodic sweep (`reminders.sweep`) fires whatever is due and was missed.
- The after-commit consumer `reminders.tasks` keeps reminders in step with their tasks: a
  completed task's pending reminders are cancelled, an un-completed task's are re-armed, and a
  moved `due_at` moves the relative ones (each with a new job).

"Now" is the plugin's `Clock`, per app: real time, plus an offset a test can set.
"""

import asyncio
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from app.core import Context, Database, Executor, Transaction, new_id, utcnow
from app.plugins.changes.api import AfterCommit, Change
from app.plugins.jobs.api import Job, JobKind, Periodic
from app.plugins.reminders import queries
from app.plugins.reminders.settings import RemindersSettings

logger = logging.getLogger("todo_api")
NAME = "reminders"
# How early a fire job may start and still wait for its reminder.
EARLY_SECONDS = 5.0


@dataclass
class Clock:
    """The plugin's notion of now: the real time plus `offset`, which tests move forward."""

    offset: timedelta = field(default_factory=timedelta)

    def now(self) -> datetime:
        return utcnow() + self.offset


async def fire(db: Executor, reminder_id: str, now: datetime) -> str | None:
    """Fire one reminder (`db` scoped to its owner) if it is due at `now`: the inbox item's id,
    or None when there was nothing to fire (fired already, cancelled, deleted, not due, or its
    task completed)."""
    fired: str | None = await db.fetchval(queries.FIRE, id=reminder_id, now=now, inbox_id=new_id())
    return fired


async def fire_due(database: Database, now: datetime, limit: int) -> int:
    """Fire every reminder due at `now` (at most `limit`); how many fired here."""
    due = await database.fetch(queries.DUE, now=now, limit=limit)
    fired = 0
    for row in due:
        if await fire(database.owned(row["user_id"]), row["id"], now) is not None:
            fired += 1
    return fired


@dataclass
class Reminders:
    """The plugin's per-app state (`context.state["reminders"]`)."""

    settings: RemindersSettings
    clock: Clock = field(default_factory=Clock)
    fire_task: JobKind = field(init=False)
    sweep_task: JobKind = field(init=False)

    def __post_init__(self) -> None:
        self.fire_task = JobKind("reminders.fire", self._fire_job)
        self.sweep_task = JobKind("reminders.sweep", self._sweep_job, retries=0)

    @classmethod
    def of(cls, context: Context) -> "Reminders":
        return context.shared(NAME, lambda: cls(context.settings_for(NAME, RemindersSettings)))

    def jobs(self) -> Sequence[JobKind | Periodic]:
        return [
            self.fire_task,
            self.sweep_task,
            Periodic(self.sweep_task, self.settings.sweep_cron),
        ]

    async def defer(self, transaction: Transaction, user_id: str, row: Any) -> None:
        """Queue the job that fires `row` (a reminder just created or moved) at its time, if it
        has one and is pending. One job per reminder and time: the dedupe key names both."""
        if row["fire_at"] is None or row["cancelled_at"] is not None:
            return
        fire_at: datetime = row["fire_at"]
        await self.fire_task.defer(
            transaction,
            {"reminder_id": row["id"], "user_id": user_id},
            at=fire_at,
            dedupe_key=f"reminders.fire:{row['id']}:{fire_at.isoformat()}",
        )

    async def _fire_job(self, job: Job) -> None:
        db = job.db.owned(job.payload["user_id"])
        reminder_id = job.payload["reminder_id"]
        if await fire(db, reminder_id, self.clock.now()) is not None:
            return
        # The queue counts time from its transaction's start, so a job may start a moment early:
        # then wait for the reminder's time and fire. A job further ahead of it is stale (the
        # reminder moved; its own job is queued) and does nothing.
        row = await db.fetchrow(queries.GET, id=reminder_id)
        if row is None or row["fired_at"] or row["cancelled_at"] or row["fire_at"] is None:
            return
        early = (row["fire_at"] - self.clock.now()).total_seconds()
        if early <= EARLY_SECONDS:  # (it may have come due since the first try: early <= 0)
            await asyncio.sleep(max(early, 0))
            # The sleep is timed on the monotonic clock and may end a hair before the wall
            # clock reaches `fire_at`: it is due now, whatever the last microseconds say.
            await fire(db, reminder_id, max(self.clock.now(), row["fire_at"]))

    async def _sweep_job(self, job: Job) -> None:
        fired = await fire_due(job.db, self.clock.now(), self.settings.sweep_batch)
        if fired:
            logger.info("reminders sweep fired %d reminders whose job was missed", fired)

    def consumer(self) -> AfterCommit:
        return AfterCommit("reminders.tasks", frozenset({"tasks"}), self._follow_tasks)

    async def _follow_tasks(self, transaction: Transaction, changes: Sequence[Change]) -> None:
        """Bring the reminders of the changed tasks in step with each task's current row."""
        # A deleted task's reminders are gone (ON DELETE CASCADE); of the others, only tasks
        # with reminders still to fire need following.
        changed = sorted({change.id for change in changes if change.op != "delete"})
        if not changed:
            return
        touched: dict[str, set[str]] = defaultdict(set)
        for row in await transaction.fetch(queries.WITH_PENDING, ids=changed):
            touched[row["user_id"]].add(row["task_id"])
        now = self.clock.now()
        for user_id, task_ids in touched.items():
            db = transaction.owned(user_id)
            ids = sorted(task_ids)
            moved = await db.fetch(queries.MOVE, ids=ids, now=now)
            await db.execute(queries.CANCEL, ids=ids, now=now)
            rearmed = await db.fetch(queries.REARM, ids=ids, now=now)
            deferred = set()
            for row in [*moved, *rearmed]:
                if row["id"] in deferred:
                    continue
                deferred.add(row["id"])
                await self.defer(transaction, user_id, row)
