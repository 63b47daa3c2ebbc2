"""Task: T-195, T-223
Spec: specs/features/webhooks.md §Delivery, §Fairness

The delivery job: one job per attempt. It claims the attempt (so one attempt is made once,
whatever the number of workers), POSTs the signed body through the outbound client (SSRF
checks at every attempt, no redirects, timeouts, a size cap), and records the outcome: a 2xx
succeeds; anything else is a failed attempt, followed by a new job at the next time of the
schedule or, when the schedule is spent, by the delivery's failure and the endpoint's disabling
with the reason.

Why a job per attempt rather than the job queue's own retries: the waits are a schedule the
operator sets (not one doubling backoff per task), each attempt's outcome is recorded where the
user sees it, and the last failure must disable the endpoint, which a retried handler raising
an exception could not do. The queue's retries still cover the job itself failing (the
database away): the attempt is then made again, with the same message id.
"""

import logging
import random
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import orjson

from app.core import utcnow
from app.plugins.jobs.api import Job, JobKind
from app.plugins.webhooks import queries
from app.plugins.webhooks.outbound import OutboundClient, OutboundError
from app.plugins.webhooks.settings import WebhooksSettings
from app.plugins.webhooks.signatures import signature_headers

logger = logging.getLogger("todo_api")
TASK_NAME = "webhooks.deliver"
MAX_ERROR = 300  # characters of `last_error`


def priority(rank: int) -> int:
    """A delivery job's queue priority from its rank among its user's waiting deliveries (0:
    the user has none waiting before it): every user's first is taken before anyone's second,
    so one user's fan-out waits behind a single delivery of another, never the reverse."""
    return -rank


@dataclass
class Deliverer:
    """The delivery task of one app, with that app's settings."""

    config: WebhooksSettings
    task: JobKind = field(init=False)
    # The process's outbound client opened by the plugin's lifespan (kept in
    # `app.state.resources`): one pool of connections and one TLS context for every attempt.
    outbound: OutboundClient | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.task = JobKind(
            TASK_NAME,
            self.run,
            retries=3,
            backoff=timedelta(seconds=5),
            concurrency=self.config.max_concurrent_deliveries,
        )

    @property
    def client(self) -> OutboundClient:
        # Made on first use: a job the worker (started by an earlier plugin's lifespan) runs
        # before this plugin's lifespan finds one too; the lifespan has it closed at the end.
        if self.outbound is None:
            self.outbound = OutboundClient.from_settings(self.config)
        return self.outbound

    def wait(self, attempts: int) -> float | None:
        """Seconds until the next attempt after `attempts` failed ones; None when spent."""
        schedule = self.config.retry_schedule_seconds
        if attempts > len(schedule):
            return None
        jitter = self.config.jitter
        return schedule[attempts - 1] * random.uniform(1 - jitter, 1 + jitter)

    async def run(self, job: Job) -> None:
        user_id, delivery_id = str(job.payload["user_id"]), str(job.payload["delivery_id"])
        db = job.db.owned(user_id)
        now = utcnow()
        claimed = await db.fetchrow(
            queries.CLAIM,
            id=delivery_id,
            attempt=int(job.payload["attempt"]),
            job=job.id,
            now=now,
        )
        if claimed is None:
            return  # delivered, given up, deleted, or the attempt was made by another job
        code: int | None = None
        if claimed["url"] is None:
            error = "the endpoint is disabled"
            await db.fetchrow(queries.FAILED, id=delivery_id, job=job.id, code=None, error=error)
            return
        body = orjson.dumps(claimed["payload"])
        headers = signature_headers(claimed["secret"], body, delivery_id, at=now)
        headers["content-type"] = "application/json"
        try:
            response = await self.client.request(
                "POST", claimed["url"], headers=headers, content=body
            )
        except OutboundError as exc:  # refused destination, timeout, too large, connection
            error = str(exc)
        else:
            code = response.status_code
            if 200 <= code < 300:
                await db.fetchrow(
                    queries.SUCCEEDED, id=delivery_id, job=job.id, code=code, now=utcnow()
                )
                return
            error = f"HTTP {code}"
            if 300 <= code < 400:
                error += " (a redirect: redirects are not followed)"
        await self._failed(job, user_id, delivery_id, claimed, code, error[:MAX_ERROR])

    async def _failed(
        self,
        job: Job,
        user_id: str,
        delivery_id: str,
        claimed: Any,
        code: int | None,
        error: str,
    ) -> None:
        attempts: int = claimed["attempts"]
        auto_retry: bool = claimed["auto_retry"]
        wait = self.wait(attempts) if auto_retry else None
        async with job.db.transaction() as transaction:
            db = transaction.owned(user_id)
            if wait is not None:
                next_at = utcnow() + timedelta(seconds=wait)
                retried = await db.fetchrow(
                    queries.RETRY,
                    id=delivery_id,
                    job=job.id,
                    code=code,
                    error=error,
                    next_at=next_at,
                )
                if retried:
                    await self.task.defer(
                        transaction,
                        {"user_id": user_id, "delivery_id": delivery_id, "attempt": attempts},
                        at=next_at,
                        dedupe_key=f"webhooks:{delivery_id}:{attempts}",
                        priority=priority(retried["waiting"]),
                    )
                return
            if not await db.fetchrow(
                queries.FAILED, id=delivery_id, job=job.id, code=code, error=error
            ):
                return
            if auto_retry:
                reason = (
                    f"disabled after {attempts} failed attempts of delivery {delivery_id}: "
                    f"last error: {error}"
                )
                await db.fetchrow(
                    queries.DISABLE,
                    endpoint_id=claimed["endpoint_id"],
                    reason=reason,
                    now=utcnow(),
                )
                logger.info(
                    "webhook endpoint %s disabled after delivery %s failed",
                    claimed["endpoint_id"],
                    delivery_id,
                )
