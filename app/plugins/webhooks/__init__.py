"""Task: T-190, T-197, T-221, T-397
Spec: specs/features/webhooks.md

The webhooks plugin: users register endpoints at `/api/v1/webhooks`; task and reminder events
from the change log are delivered to them as Standard Webhooks (signed, retried on a schedule
over about a day, then the endpoint is disabled with the reason), through the outbound client's
SSRF checks. The delivery log is the user's to read, and any delivery can be sent again.
"""

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel
from sqlalchemy import select, text
from sqlmodel import SQLModel

from app.core import Context, hookimpl
from app.plugins.changes.api import AfterCommit, row_serializers
from app.plugins.jobs.api import Job, JobKind, Periodic
from app.plugins.webhooks.delivery import Deliverer
from app.plugins.webhooks.events import consumer
from app.plugins.webhooks.models import EndpointSlots, WebhookDelivery, WebhookEndpoint
from app.plugins.webhooks.routes import build_router
from app.plugins.webhooks.settings import WebhooksSettings

NAME = "webhooks"
DAILY = "41 3 * * *"  # 03:41 UTC, off the hour
# Plain SQL, on purpose outside the per-user scoping: every user's old deliveries.
_PRUNE = text(
    "DELETE FROM webhook_deliveries WHERE created_at < now() - make_interval(days => :days)"
)


def _deliverer(context: Context) -> Deliverer:
    """The plugin's per-app state, made once."""
    config = context.settings_for(NAME, WebhooksSettings)
    return context.shared(NAME, lambda: Deliverer(config))


@hookimpl
def requires() -> Sequence[str]:
    return ["auth", "changes", "jobs"]


@hookimpl
def settings_model() -> type[BaseModel]:
    return WebhooksSettings


@hookimpl
def models() -> Sequence[type[SQLModel]]:
    return [WebhookEndpoint, WebhookDelivery, EndpointSlots]


@hookimpl
def routers(context: Context) -> Sequence[APIRouter]:
    deliverer = _deliverer(context)
    return [build_router(deliverer, deliverer.config)]


@hookimpl
def lifespan(context: Context) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    deliverer = _deliverer(context)

    @asynccontextmanager
    async def outbound(app: FastAPI) -> AsyncIterator[None]:
        # One client per process, closed by the kernel after every plugin's lifespan (the job
        # worker's too), so it is not taken back here: the last jobs still use it.
        await app.state.resources.enter_async_context(deliverer.client)
        app.state.resources.callback(setattr, deliverer, "outbound", None)  # a next run: anew
        yield

    return outbound


@hookimpl
def jobs(context: Context) -> Sequence[JobKind | Periodic]:
    deliverer = _deliverer(context)
    days = deliverer.config.retention_days

    async def prune(job: Job) -> None:
        await job.db.execute(_PRUNE, days=days)

    prune_task = JobKind("webhooks.prune", prune, retries=3)
    return [deliverer.task, prune_task, Periodic(prune_task, DAILY)]


@hookimpl
def subscriptions(context: Context) -> Sequence[AfterCommit]:
    serializers = row_serializers(context)
    return [consumer(_deliverer(context).task, serializers)]


@hookimpl
def account_export(context: Context) -> Mapping[str, tuple[Any, Any]]:
    # The data export (auth's hook): endpoints without their signing secret, and deliveries.
    endpoints, deliveries = WebhookEndpoint.__table__, WebhookDelivery.__table__  # type: ignore[attr-defined]
    shown = [column for column in endpoints.c if column.name != "secret"]
    return {
        "webhook_endpoints": (select(*shown), endpoints.c.id),
        "webhook_deliveries": (select(deliveries), deliveries.c.id),
    }
