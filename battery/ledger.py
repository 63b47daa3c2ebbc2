"""Task: T-081
Spec: specs/operations/battery.md §Lost and duplicated writes

What the clients were told, and what the database holds afterwards.

Every answer is tallied by status (or by the transport error that replaced it). A create the
server answered `201` is acknowledged: its task id must be in the database at the end, or it is
lost; an acknowledged `complete` must have left the task completed, or it is lost too. Every
create carries a title used once, so a title stored twice is a duplicated write, whoever
answered what. The comparison runs after the scenario, directly on PostgreSQL.
"""

import time
from collections import Counter
from dataclasses import dataclass, field

import asyncpg
import httpx


@dataclass(frozen=True)
class Answer:
    received: float  # time.monotonic() when the answer (or the error) came
    outcome: str  # the status code, or the transport error's name when there was no answer

    @property
    def ok(self) -> bool:
        return self.outcome.startswith("2")


@dataclass
class Ledger:
    """One row of the battery's table."""

    scenario: str
    # Answers acceptable besides 2xx: 503 while the database is away, 401 for a refresh race's
    # losers. Anything else — a 500, a timeout, a 404 for an acknowledged task — is a failure.
    tolerated: frozenset[str] = frozenset()
    answers: list[Answer] = field(default_factory=list)
    titles: set[str] = field(default_factory=set)  # every title sent in a create
    created: dict[str, str] = field(default_factory=dict)  # acknowledged creates: id -> title
    completed: set[str] = field(default_factory=set)  # acknowledged completes: task ids
    stored: int = 0  # tasks found with the titles sent
    lost: int = 0
    duplicated: int = 0
    notes: list[str] = field(default_factory=list)  # printed under the table
    problems: list[str] = field(default_factory=list)  # why it failed beyond the counts

    def record(self, outcome: httpx.Response | Exception) -> Answer:
        if isinstance(outcome, httpx.Response):
            answer = Answer(time.monotonic(), str(outcome.status_code))
        else:
            answer = Answer(time.monotonic(), type(outcome).__name__)
        self.answers.append(answer)
        return answer

    def statuses(self, answers: list[Answer] | None = None) -> Counter[str]:
        """Answers per status: all of them, or the given ones."""
        chosen = self.answers if answers is None else answers
        return Counter(answer.outcome for answer in chosen)

    @property
    def failures(self) -> int:
        return sum(
            1 for answer in self.answers if not answer.ok and answer.outcome not in self.tolerated
        )

    @property
    def passed(self) -> bool:
        return not (self.lost or self.duplicated or self.failures or self.problems)

    async def reconcile(self, dsn: str) -> None:
        """Compare the acknowledged writes with what PostgreSQL holds."""
        connection = await asyncpg.connect(dsn)
        try:
            rows = await connection.fetch(
                "SELECT id, title, completed FROM tasks WHERE title = ANY($1::text[])",
                list(self.titles),
            )
        finally:
            await connection.close()
        stored = {row["id"]: row for row in rows}
        self.stored = len(stored)
        copies = Counter(row["title"] for row in rows)
        self.duplicated = sum(count - 1 for count in copies.values() if count > 1)
        missing = [task_id for task_id in self.created if task_id not in stored]
        # A completion counts as lost only when its task survived: a lost task is lost once.
        undone = [
            task_id
            for task_id in self.completed
            if task_id in stored and not stored[task_id]["completed"]
        ]
        self.lost = len(missing) + len(undone)
        unacknowledged = len(set(stored) - set(self.created))
        if unacknowledged:
            # Not a failure: the client saw an error, so it cannot assume either outcome.
            self.notes.append(f"{unacknowledged} creates answered with an error were stored")
