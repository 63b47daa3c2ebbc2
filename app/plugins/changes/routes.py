"""Task: T-132, T-134
Spec: specs/api/rest-endpoints.md §Changes

`GET /changes` (a page of the caller's change feed) and `GET /changes/stream` (the same feed,
live, as Server-Sent Events). Both read the log through `OwnedDB`: the kernel scopes every
statement to the caller.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Header, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette import EventSourceResponse, ServerSentEvent

from app.core import DatabaseUnavailable, Executor, OwnedDB
from app.plugins.changes import cursors, log
from app.plugins.changes.notifier import Notifier, Subscription
from app.plugins.changes.queries import WATERMARK
from app.plugins.changes.settings import ChangesSettings

router = APIRouter(prefix="/changes", tags=["changes"])
GONE = {410: {"description": "The cursor is older than the changes kept: resync"}}
# A stream whose client takes no data for this long is closed (the client reconnects).
SEND_TIMEOUT_SECONDS = 30
# While the caller's changes wait behind an older transaction, look again after this long,
# doubling up to `poll_seconds`: no second notification comes for them.
PENDING_FIRST_SECONDS = 0.05


@dataclass
class Feed:
    """What the routes share, per app (`context.state["changes"]`)."""

    settings: ChangesSettings
    serializers: dict[str, log.Serialize] = field(default_factory=dict)
    notifier: Notifier | None = None  # set while the app runs


class ChangeOut(BaseModel):
    type: str
    id: str
    op: Literal["create", "update", "delete"]
    version: int | None
    at: datetime
    data: dict[str, Any] | None


class ChangesPage(BaseModel):
    changes: list[ChangeOut]
    next: str
    more: bool


class ChangesQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: str | None = Field(None, max_length=200)
    limit: int | None = Field(None, ge=1)


def _json(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_UTC_Z)


def _feed(request: Request) -> Feed:
    return request.app.state.context.state["changes"]


def _gone(feed: Feed) -> HTTPException:
    return HTTPException(
        status.HTTP_410_GONE,
        f"Changes after this cursor were purged (they are kept {feed.settings.retention_days:g}"
        " days): resync with GET /api/v1/changes?since=now for a new cursor, then GET"
        " /api/v1/tasks",
    )


async def _start(db: Executor, since: str | None) -> cursors.Position:
    if since == cursors.NOW:
        return await db.fetchval(WATERMARK), 0
    return cursors.decode(since) if since is not None else cursors.START


@router.get("", response_model=ChangesPage, responses=GONE)
async def list_changes(
    request: Request, db: OwnedDB, query: Annotated[ChangesQuery, Query()]
) -> Response:
    feed = _feed(request)
    limit = query.limit or feed.settings.default_page_size
    if limit > feed.settings.max_page_size:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"limit must be at most {feed.settings.max_page_size}",
        )
    if query.since == cursors.NOW:
        page = log.Page([], await _start(db, query.since), False, False, False)
    else:
        page = await log.read(db, await _start(db, query.since), limit, feed.serializers)
    if page.expired:
        raise _gone(feed)
    body = {
        "changes": [entry.body for entry in page.entries],
        "next": cursors.encode(page.next),
        "more": page.more,
    }
    return Response(_json(body), media_type="application/json")


@router.get("/stream", responses={200: {"content": {"text/event-stream": {}}}, **GONE})
async def stream_changes(
    request: Request,
    db: OwnedDB,
    since: Annotated[str | None, Query(max_length=200)] = None,
    last_event_id: Annotated[str | None, Header(max_length=200)] = None,
) -> EventSourceResponse:
    feed = _feed(request)
    assert feed.notifier is not None and db.owner is not None
    # Subscribed before the first read, so nothing committed in between goes unnoticed.
    subscription = feed.notifier.subscribe(db.owner)
    try:
        page = await log.read(
            db,
            await _start(db, last_event_id or since),
            feed.settings.default_page_size,
            feed.serializers,
        )
    except BaseException:
        subscription.close()
        raise
    if page.expired:
        subscription.close()
        raise _gone(feed)
    return EventSourceResponse(
        _events(db, feed, subscription, page),
        ping=feed.settings.heartbeat_seconds,
        send_timeout=SEND_TIMEOUT_SECONDS,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _events(
    db: Executor, feed: Feed, subscription: Subscription, page: log.Page
) -> AsyncIterator[ServerSentEvent]:
    """The stream: one page at a time from the log, only as fast as the client takes it; at
    most one page is held, whatever the client's speed or the rate of changes."""
    settings = feed.settings
    pending_wait = PENDING_FIRST_SECONDS
    try:
        while True:
            for entry in page.entries:
                yield ServerSentEvent(
                    data=_json(entry.body).decode(),
                    event="change",
                    id=cursors.encode(entry.position),
                )
            if page.pending and not page.more:
                await subscription.wait(pending_wait)
                pending_wait = min(pending_wait * 2, settings.poll_seconds)
            elif not page.more:
                pending_wait = PENDING_FIRST_SECONDS
                await subscription.wait()
            page = await log.read(db, page.next, settings.default_page_size, feed.serializers)
            if page.expired:
                return  # the client reconnects from its last event id and gets the 410
    except DatabaseUnavailable:
        return  # the client reconnects with Last-Event-ID: nothing is lost
    finally:
        subscription.close()
