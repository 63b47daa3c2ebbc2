"""Task: T-132, T-134, T-215, T-259, T-279
Spec: specs/api/rest-endpoints.md §Changes

`GET /changes` (a page of the caller's change feed) and `GET /changes/stream` (the same feed,
live, as Server-Sent Events). Both read the log through `OwnedDB`: the kernel scopes every
statement to the caller.
"""

from collections.abc import AsyncIterator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from math import ceil
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, Field
from sse_starlette import EventSourceResponse, ServerSentEvent

from app.core import (
    DatabaseUnavailable,
    Executor,
    OwnedDB,
    QueryParameters,
    documented,
    json_bytes,
    json_response,
    page_size,
)
from app.plugins.changes import cursors, leases, log
from app.plugins.changes.api import AfterCommit
from app.plugins.changes.notifier import Notifier, Subscription
from app.plugins.changes.queries import WATERMARK
from app.plugins.changes.settings import ChangesSettings

GONE: dict[int | str, dict[str, Any]] = {
    410: {"description": "The cursor is older than the changes kept: resync"}
}
# A stream whose client takes no data for this long is closed (the client reconnects).
SEND_TIMEOUT_SECONDS = 30
# While the caller's changes wait behind an older transaction, look again after this long,
# doubling up to `poll_seconds`: no second notification comes for them.
PENDING_FIRST_SECONDS = 0.05


@dataclass
class Feed:
    """The plugin's per-app state, which its routes and its lifespan share."""

    settings: ChangesSettings
    serializers: dict[str, log.Serialize] = field(default_factory=dict)
    consumers: list[AfterCommit] = field(default_factory=list)
    notifier: Notifier | None = None  # set while the app runs
    streams: int = 0  # live streams of this process


EXAMPLE_CURSOR = "MTIzNC4w"
EXAMPLE_CHANGE = {
    "type": "tasks",
    "id": "3f2b8c1e-7d4a-4e1b-9a65-0c2d5e8f1a47",
    "op": "update",
    "version": 2,
    "at": "2030-01-02T08:15:00.123456Z",
    "data": {"id": "3f2b8c1e-7d4a-4e1b-9a65-0c2d5e8f1a47", "title": "Buy oat milk"},
}


class ChangeOut(BaseModel):
    """One change: a row created, updated or deleted."""

    model_config = documented(EXAMPLE_CHANGE)

    type: str
    """The kind of row: `tasks`, or another plugin's table (`notes`)."""
    id: str
    """The row's id."""
    op: Literal["create", "update", "delete"]
    """What happened to it."""
    version: int | None
    """The row's `version` after the change (a delete: the last one); null for a table without
    versions."""
    at: datetime
    """When the writing transaction started."""
    data: dict[str, Any] | None
    """The row as its plugin's API showed it at this change (a task: `GET /tasks/{id}`'s body);
    null for a delete (a tombstone), for a table whose plugin does not show its rows, or when
    the row could not be shown (then `problem` says so)."""
    problem: str | None = Field(None, examples=[log.UNRENDERABLE])
    """Only on a change whose row could not be shown (`data` is null): what to do instead
    (GET the resource itself). Absent otherwise."""


class ChangesPage(BaseModel):
    """A page of the caller's changes, oldest first."""

    model_config = documented(
        {
            "changes": [EXAMPLE_CHANGE],
            "next": EXAMPLE_CURSOR,
            "more": False,
        }
    )

    changes: list[ChangeOut]
    """The changes after the cursor, oldest first."""
    next: str
    """The cursor to pass as `since` next time (opaque)."""
    more: bool
    """More changes are waiting now: ask again at once."""


class ChangesQuery(BaseModel):
    """`GET /changes` query parameters. Unknown parameters are rejected (422)."""

    model_config = documented({"since": EXAMPLE_CURSOR, "limit": 100}, extra="forbid")

    since: str | None = Field(None, max_length=200)
    """A cursor (a page's `next`), or `now` for an empty page whose `next` is the current
    position; absent: from the start of the log."""
    limit: int | None = Field(None, ge=1)
    """Changes per page: 1 or more, at most the server's maximum (1000); default 100."""


CHANGES_QUERY = QueryParameters(ChangesQuery)
# Each event of the stream, as OpenAPI 3.1 lets a text/event-stream be described: its `data` is
# a change as `GET /changes` shows it, in JSON.
EVENT_SCHEMA = {
    "type": "object",
    "required": ["event", "id", "data"],
    "properties": {
        "event": {"const": "change"},
        "id": {"type": "string", "description": "The cursor after this change"},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": {"$ref": "#/components/schemas/ChangeOut"},
        },
    },
}


def _gone(feed: Feed) -> HTTPException:
    return HTTPException(
        status.HTTP_410_GONE,
        f"Changes after this cursor were purged (they are kept {feed.settings.retention_days:g}"
        " days): resync with GET /api/v1/changes?since=now for a new cursor, then GET"
        " /api/v1/tasks",
    )


SINCE: cursors.Loc = ("query", "since")
LAST_EVENT_ID: cursors.Loc = ("header", "Last-Event-ID")


async def _start(db: Executor, since: str | None, loc: cursors.Loc = SINCE) -> cursors.Position:
    if since == cursors.NOW:
        return await db.fetchval(WATERMARK), 0
    return cursors.decode(since, loc) if since is not None else cursors.START


def build_router(feed: Feed) -> APIRouter:
    router = APIRouter(prefix="/changes", tags=["changes"])

    @router.get(
        "",
        name="list",
        summary="Your changes after a cursor: incremental sync",
        response_model=ChangesPage,
        responses=GONE,
        openapi_extra=CHANGES_QUERY.openapi,
        description="Answers the changes to your data after the cursor `since`, oldest first and "
        "each once, with `next`, the cursor to send next time (`since=now`: no changes, only the "
        "current cursor). A cursor older than the changes kept is a 410: resync.",
    )
    async def list_changes(request: Request, db: OwnedDB) -> Response:
        query = CHANGES_QUERY.parse(request)
        limit = page_size(query.limit, feed.settings.default_page_size, feed.settings.max_page_size)
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
        return json_response(body)

    @router.get(
        "/stream",
        name="stream",
        summary="Your changes as they commit (Server-Sent Events)",
        response_class=EventSourceResponse,
        responses={
            200: {
                "description": "`event: change` events, each `id` the cursor after it and `data` a "
                "change as `GET /changes` shows it, and `: ping` comments every 15 s",
                "content": {"text/event-stream": {"schema": EVENT_SCHEMA}},
            },
            **GONE,
            429: {"description": "You have `max_streams_per_user` (8) streams open: close one"},
            503: {"description": "This instance holds `max_streams` streams: retry later"},
        },
        description="Sends your changes as Server-Sent Events as they commit, after "
        "`Last-Event-ID` or `since`; each event's `id` is the cursor after it, so a client that "
        "reconnects misses nothing. The number of open streams per user and per instance is "
        "capped (429, 503).",
    )
    async def stream_changes(
        db: OwnedDB,
        since: Annotated[
            str | None,
            Query(
                max_length=200,
                description="A cursor, or `now`; absent: from the start of the log",
                examples=[EXAMPLE_CURSOR],
            ),
        ] = None,
        last_event_id: Annotated[
            str | None,
            Header(
                # Named as sent, so pydantic's own 422 (too long) names it as ours do.
                alias="Last-Event-ID",
                max_length=200,
                description="The last event's id, on a reconnect: the stream resumes after it "
                "(it takes precedence over `since`)",
                examples=[EXAMPLE_CURSOR],
            ),
        ] = None,
    ) -> EventSourceResponse:
        assert feed.notifier is not None and db.owner is not None
        # Where to start, and the parameter a bad cursor is blamed on.
        resume = (last_event_id, LAST_EVENT_ID) if last_event_id else (since, SINCE)
        start = await _start(db, *resume)
        lease = await _lease(db, feed)
        feed.streams += 1
        # Subscribed before the first read, so nothing committed in between goes unnoticed.
        subscription = feed.notifier.subscribe(db.owner)
        try:
            page = await log.read(db, start, feed.settings.default_page_size, feed.serializers)
            if page.expired:
                raise _gone(feed)
        except BaseException:
            await _closed(feed, subscription, lease)
            raise
        return EventSourceResponse(
            _events(db, feed, subscription, page, lease),
            ping=feed.settings.heartbeat_seconds,
            send_timeout=SEND_TIMEOUT_SECONDS,
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    return router


async def _lease(db: Executor, feed: Feed) -> leases.Lease:
    """A slot for one more stream: this process's (503 when full) and the user's (429)."""
    settings = feed.settings
    retry = {"Retry-After": str(ceil(settings.stream_lease_seconds))}
    if feed.streams >= settings.max_streams:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "This instance holds as many live streams as it may: retry later",
            headers=retry,
        )
    lease = await leases.take(db, settings.stream_lease_seconds, settings.max_streams_per_user)
    if lease is None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"You have {settings.max_streams_per_user} live change streams open, the most"
            " allowed: close one",
            headers=retry,
        )
    return lease


async def _closed(feed: Feed, subscription: Subscription, lease: leases.Lease) -> None:
    subscription.close()
    feed.streams -= 1
    # A stream closed during an outage cannot give its slot back: its lease expires instead.
    with suppress(DatabaseUnavailable):
        await lease.release()


async def _events(
    db: Executor, feed: Feed, subscription: Subscription, page: log.Page, lease: leases.Lease
) -> AsyncIterator[ServerSentEvent]:
    """The stream: one page at a time from the log, only as fast as the client takes it; at
    most one page is held, whatever the client's speed or the rate of changes."""
    settings = feed.settings
    pending_wait = PENDING_FIRST_SECONDS
    try:
        while True:
            for entry in page.entries:
                yield ServerSentEvent(
                    data=json_bytes(entry.body).decode(),
                    event="change",
                    id=cursors.encode(entry.position),
                )
            if page.pending and not page.more:
                await subscription.wait(pending_wait)
                pending_wait = min(pending_wait * 2, settings.poll_seconds)
            elif not page.more:
                pending_wait = PENDING_FIRST_SECONDS
                # Idle: wake up to renew the lease, then wait again.
                while not await subscription.wait(lease.renew_in()):
                    if not await _kept(lease):
                        return  # lost (this instance stalled): the client reconnects
            if not await _kept(lease):
                return
            page = await _next_page(db, feed, subscription, page.next)
            if page.expired:
                return  # the client reconnects from its last event id and gets the 410
    finally:
        await _closed(feed, subscription, lease)


async def _kept(lease: leases.Lease) -> bool:
    """`lease.keep()`, where a database outage keeps the stream open like a failed read does:
    the renewal is tried again a third of the lease later, and a lease that expired meanwhile
    is found lost then (the stream ends, and the client reconnects with its cursor)."""
    try:
        return await lease.keep()
    except DatabaseUnavailable:
        return True


async def _next_page(
    db: Executor, feed: Feed, subscription: Subscription, after: cursors.Position
) -> log.Page:
    """The page after `after`. While the database is away the stream stays open (its pings go
    on) and reads again when woken (the feed's listener is back) or after `poll_seconds`:
    nothing is lost, as the read starts from the cursor. Ending the stream instead would send a
    browser's EventSource back during the outage, and it gives up for good on the 503."""
    while True:
        try:
            return await log.read(db, after, feed.settings.default_page_size, feed.serializers)
        except DatabaseUnavailable:
            await subscription.wait(feed.settings.poll_seconds)
