"""Task: T-431, T-432, T-435
Spec: specs/features/calendar.md §Feeds, §The feed's one statement, §ETag

`/calendar/feeds` (the caller's subscriptions, each statement scoped to them) and the feed
itself, `GET /calendar/{token}.ics`: public, since calendar apps send no header, and guarded by
its token, which names the feed's owner and id so that its one statement runs scoped to that
owner and finds the feed by id and token digest.
"""

import base64
import binascii
import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Path, Request, Response, status
from fastapi.concurrency import run_in_threadpool

from app.core import (
    DB,
    ETAG,
    LOCATION,
    OwnedDB,
    id_or_404,
    if_none_match_names,
    invalid,
    is_id,
    json_response,
    new_id,
    no_store,
    one_or_404,
    public,
    secret_digest,
)
from app.plugins.calendar import ics, queries
from app.plugins.calendar.schemas import FeedCreate, FeedCreated, FeedOut
from app.plugins.calendar.settings import CalendarSettings

# Where the kernel mounts every router (the rules: every route is under /api/v1).
API_PREFIX = "/api/v1"
# `<owner, base64url>.<feed id>.<secret>`: the owner is at most a few hundred characters; a
# longer token names no feed (a 404 like any other, not hashed).
MAX_TOKEN = 600
MEDIA_TYPE = "text/calendar; charset=utf-8"
# What its 404s name ("Calendar feed not found").
FEED = "Calendar feed"
FeedId = Annotated[
    str,
    Path(description="The feed's id; one that names no feed of yours is a 404"),
]
Token = Annotated[str, Path(description="The feed's secret, from its `url`")]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such feed of yours"}}


def _b64(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).rstrip(b"=").decode()


def new_token(owner: str, feed_id: str) -> str:
    """A feed's token: its owner and id in the clear (so its statement is scoped by
    construction), then 256 random bits."""
    return f"{_b64(owner)}.{feed_id}.{secrets.token_urlsafe(32)}"


def parse_token(token: str) -> tuple[str, str] | None:
    """The owner and feed id a token names, or None when it cannot be one."""
    parts = token.split(".")
    if len(token) > MAX_TOKEN or len(parts) != 3 or not is_id(parts[1]):
        return None
    try:
        owner = base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return (owner, parts[1]) if owner else None


def build_router(config: CalendarSettings, recurrences: Sequence[Any]) -> APIRouter:
    router = APIRouter(prefix="/calendar", tags=["calendar"])
    feed_statement = queries.feed_statement(recurrences)
    refresh = timedelta(minutes=config.refresh_minutes)
    rendered = ics.Rendered(config.cache_bytes)

    @router.get(
        "/feeds",
        name="list",
        summary="List your calendar feeds",
        response_model=list[FeedOut],
        description="Answers your calendar subscriptions, oldest first, without their URLs.",
    )
    async def list_feeds(db: OwnedDB) -> Response:
        return json_response(
            [FeedOut.model_validate(dict(row)) for row in await db.fetch(queries.LIST)]
        )

    @router.post(
        "/feeds",
        name="create",
        summary="Make a calendar feed (its secret URL is shown only here)",
        status_code=status.HTTP_201_CREATED,
        response_model=FeedCreated,
        responses={
            201: {"headers": LOCATION},
            409: {"description": "You have as many feeds as allowed"},
            422: {"description": "`list_id` names no list you can read, or the body is invalid"},
        },
        description="Makes an iCalendar subscription of your due tasks (of one list, yours or "
        "shared with you, or of every task you can read). The answer's `url` is its secret: "
        "shown this once, stored only as its SHA-256. Give it to a calendar app.",
    )
    @no_store
    async def create_feed(body: FeedCreate, request: Request, db: OwnedDB) -> Response:
        assert db.owner is not None  # an OwnedDB is scoped
        if body.list_id is not None and not is_id(body.list_id):
            raise invalid(("body", "list_id"), "Not one of your lists")
        feed_id = new_id()
        token = new_token(db.owner, feed_id)
        values = {
            "id": feed_id,
            "name": body.name,
            "list_id": body.list_id,
            "include_completed": body.include_completed,
            "token_hash": secret_digest(token),
        }
        row = await db.fetchrow(queries.CREATE, **values, max=config.max_feeds)
        if row is None:
            if not await db.fetchval(queries.READABLE, list_id=body.list_id):
                raise invalid(("body", "list_id"), "Not one of your lists")
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                f"You have {config.max_feeds} calendar feeds, the most allowed: revoke one",
            )
        url = f"{str(request.base_url).rstrip('/')}{API_PREFIX}/calendar/{token}.ics"
        return json_response(
            FeedCreated.model_validate({**dict(row), "url": url}),
            status.HTTP_201_CREATED,
            {"Location": f"{request.url.path}/{row['id']}"},
        )

    @router.delete(
        "/feeds/{feed_id}",
        name="delete",
        summary="Revoke a calendar feed",
        status_code=status.HTTP_204_NO_CONTENT,
        responses=NOT_FOUND,
        description="Deletes the feed: its URL answers 404 from now on.",
    )
    async def delete_feed(feed_id: FeedId, db: OwnedDB) -> Response:
        one_or_404(await db.fetchval(queries.DELETE, id=id_or_404(feed_id, FEED)), FEED)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.get(
        "/{token}.ics",
        name="feed",
        summary="A calendar feed's tasks, as iCalendar (the secret URL)",
        response_class=Response,
        responses={
            200: {"content": {"text/calendar": {}}, "headers": ETAG},
            304: {"description": "`If-None-Match` names the current ETag"},
            404: {"description": "No such feed, or revoked"},
        },
        description="The feed's due tasks as VTODO and VEVENT components (RFC 5545), for "
        "calendar apps to subscribe to. Needs no header: the URL is the secret. Answers an "
        "ETag, and 304 to an `If-None-Match` naming it.",
    )
    @public
    async def feed(
        token: Token,
        db: DB,
        if_none_match: Annotated[str | None, Header(include_in_schema=False)] = None,
    ) -> Response:
        owner, feed_id = one_or_404(parse_token(token), FEED)
        rows = one_or_404(
            await db.owned(owner).fetch(
                feed_statement, id=feed_id, token_hash=secret_digest(token), max=config.max_tasks
            )
            or None,  # no feed row: unknown or revoked
            FEED,
        )
        tag = ics.entity_tag(rows, config.uid_domain, refresh)
        # Any cache must ask again each time: a revoked feed is a 404 at once.
        headers = {"ETag": tag, "Cache-Control": "private, no-cache"}
        if if_none_match_names(if_none_match, tag):
            return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
        body = rendered.get(tag)
        if body is None:
            # About half a millisecond of CPU a task: off the event loop, so a feed of 1,000
            # changed tasks does not hold up every other request for half a second.
            body = await run_in_threadpool(ics.render, rows, config.uid_domain, refresh)
            rendered.put(tag, body)
        return Response(body, media_type=MEDIA_TYPE, headers=headers)

    return router
