"""Task: T-285, T-284
Spec: specs/api/rest-endpoints.md §Lists, §Order

The `/lists` endpoints: each user's lists of tasks, in their manual order. As on `/tasks`, every
statement is scoped to the caller by the kernel (another user's list is a 404), and each
request's normal path is one statement (`list_queries`, `order`).
"""

import base64
import binascii
import json
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, status

from app.core import (
    ETAG,
    LINK,
    LOCATION,
    Context,
    Executor,
    OwnedDB,
    id_or_404,
    if_match_fails,
    invalid,
    is_id,
    json_response,
    matching_versions,
    new_id,
    one_or_404,
    page_size,
    utcnow,
)
from app.plugins.tasks import list_queries, order
from app.plugins.tasks.models import default_list_id
from app.plugins.tasks.pagination import next_link
from app.plugins.tasks.routes import (
    IfMatch,
    IfNoneMatch,
    tagged_response,
    tagged_unless_current,
)
from app.plugins.tasks.schemas import EXAMPLE_LIST_ID, ListCreate, ListOut, ListUpdate
from app.plugins.tasks.settings import TasksSettings

ListId = Annotated[
    str,
    Path(
        description="The list's id; one that names no list of yours, or is no UUID, is a 404",
        examples=[EXAMPLE_LIST_ID],
    ),
]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such list of yours (or the id is no UUID)"}
}
STALE: dict[int | str, dict[str, Any]] = {
    412: {"description": "`If-Match` names no current tag: the list is unchanged"}
}
LIST: dict[int | str, dict[str, Any]] = {200: {"headers": ETAG}}


def _stale() -> HTTPException:
    return HTTPException(
        status.HTTP_412_PRECONDITION_FAILED, "List was changed since the given ETag; fetch it again"
    )


def _cursor(last: Any) -> str:
    raw = json.dumps([last["position"], last["id"]], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _after(cursor: str) -> tuple[str, str]:
    """The (position, id) a cursor continues after; 422 naming `cursor` when it is not one."""
    try:
        position, list_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, TypeError, RecursionError):
        raise invalid(("query", "cursor"), "Invalid cursor: malformed") from None
    if not isinstance(position, str) or "\x00" in position or not is_id(str(list_id)):
        raise invalid(("query", "cursor"), "Invalid cursor: malformed")
    return position, str(list_id)


async def _unchanged(db: Executor, list_id: str, if_match: str | None) -> Response:
    found = one_or_404(await db.fetchrow(list_queries.GET, id=list_id), "List")
    if if_match_fails(if_match, found["id"], found["version"]):
        raise _stale()
    return tagged_response(found)


def build_router(context: Context) -> APIRouter:
    router = APIRouter(prefix="/lists", tags=["lists"])
    settings = context.settings_for("tasks", TasksSettings)

    def owner_defaults(db: Executor) -> dict[str, Any]:
        assert db.owner is not None
        return {"list_id": default_list_id(db.owner), "now": utcnow()}

    @router.get(
        "",
        name="list",
        summary="List your lists, in order, a page at a time",
        response_model=list[ListOut],
        responses={200: {"headers": LINK}},
        description="Answers your lists in their manual order (`position`), your default list "
        "among them from the first request on, one page at a time (`limit`, default 50). Follow "
        "the `Link` header (`rel=next`) as is until a page has none.",
    )
    async def list_lists(
        request: Request,
        db: OwnedDB,
        limit: Annotated[
            int | None, Query(ge=1, description="Lists per page (default 50)", examples=[50])
        ] = None,
        cursor: Annotated[
            str | None,
            Query(
                max_length=2000,
                description="Where the page starts: from the `Link` header",
                examples=["eyJwIjoiYTUiLCJpIjoiNmMxZjBiOWEifQ"],
            ),
        ] = None,
    ) -> Response:
        size = page_size(limit, settings.default_page_size, settings.max_page_size)
        params: dict[str, Any] = {"limit": size + 1, **owner_defaults(db)}
        if cursor is not None:
            params["after_position"], params["after_id"] = _after(cursor)
        rows = await db.fetch(list_queries.page(cursor is not None), **params)
        headers = {}
        if len(rows) > size:
            rows = rows[:size]
            headers["Link"] = next_link(request.url, _cursor(rows[-1]))
        return json_response(rows, headers=headers)

    @router.post(
        "",
        name="create",
        summary="Create a list",
        status_code=status.HTTP_201_CREATED,
        response_model=ListOut,
        responses={201: {"headers": LOCATION | ETAG}},
        description="Creates a list after your others and answers it with its `ETag` and "
        "`Location`.",
    )
    async def create_list(body: ListCreate, request: Request, db: OwnedDB) -> Response:
        list_id = new_id()
        made = await db.fetchrow(
            list_queries.CREATE, id=list_id, name=body.name, **owner_defaults(db)
        )
        if made is None:  # the kernel retried an insert that had made its row
            made = one_or_404(await db.fetchrow(list_queries.GET, id=list_id), "List")
        location = f"{request.url.path}/{list_id}"
        return tagged_response(made, status.HTTP_201_CREATED, Location=location)

    @router.get(
        "/{list_id}",
        name="get",
        summary="Get a list",
        response_model=ListOut,
        responses={
            **LIST,
            304: {"description": "`If-None-Match` names the current tag: no body", "headers": ETAG},
            **NOT_FOUND,
        },
        description="Answers one of your lists with its `ETag`. With `If-None-Match` naming the "
        "current tag, a 304 with no body instead.",
    )
    async def get_list(list_id: ListId, db: OwnedDB, if_none_match: IfNoneMatch = None) -> Response:
        found = one_or_404(
            await db.fetchrow(list_queries.GET, id=id_or_404(list_id, "List")), "List"
        )
        return tagged_unless_current(found, if_none_match)

    @router.patch(
        "/{list_id}",
        name="update",
        summary="Rename a list",
        response_model=ListOut,
        responses={**LIST, **NOT_FOUND, **STALE},
        description="Changes the fields sent (`name`), answering the list with its new `ETag`. "
        "With `If-Match`, only if that is the current tag; otherwise 412 and nothing changes.",
    )
    async def update_list(
        list_id: ListId, body: ListUpdate, db: OwnedDB, if_match: IfMatch = None
    ) -> Response:
        list_id = id_or_404(list_id, "List")
        changes = body.model_dump(exclude_unset=True)
        versions = matching_versions(if_match, list_id)
        if not changes:
            return await _unchanged(db, list_id, if_match)
        params: dict[str, Any] = {"versions": versions} if versions is not None else {}
        renamed = await db.fetchrow(
            list_queries.rename(versions is not None),
            id=list_id,
            now=utcnow(),
            **changes,
            **params,
        )
        if renamed is None:
            return await _unchanged(db, list_id, if_match)
        return tagged_response(renamed)

    @router.delete(
        "/{list_id}",
        name="delete",
        summary="Delete a list and its tasks",
        status_code=status.HTTP_204_NO_CONTENT,
        responses={
            **NOT_FOUND,
            **STALE,
            409: {"description": "It is your default list, which cannot be deleted"},
        },
        description="Deletes the list and every task in it (the change feed has a deletion for "
        "each). Your default list cannot be deleted: 409. With `If-Match`, only if that is the "
        "current tag; otherwise 412 and nothing is deleted.",
    )
    async def delete_list(list_id: ListId, db: OwnedDB, if_match: IfMatch = None) -> Response:
        list_id = id_or_404(list_id, "List")
        versions = matching_versions(if_match, list_id)
        if versions is None:
            deleted = await db.fetchrow(list_queries.DELETE, id=list_id)
        else:
            deleted = await db.fetchrow(list_queries.DELETE_IF_MATCH, id=list_id, versions=versions)
        if deleted is None:
            found = one_or_404(await db.fetchrow(list_queries.GET, id=list_id), "List")
            if found["is_default"]:
                raise HTTPException(status.HTTP_409_CONFLICT, "Your default list cannot be deleted")
            raise _stale()
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.post(
        "/{list_id}/move",
        name="move",
        summary="Move a list among your lists",
        response_model=ListOut,
        responses={**LIST, **NOT_FOUND},
        description="Places the list right after `after` or right before `before`, lists of "
        "yours (null: the start, the end; neither: the end), changing no other list. A neighbour "
        "that is no list of yours, or the list itself, is a 422 naming it.",
    )
    async def move_list(list_id: ListId, body: order.Move, db: OwnedDB) -> Response:
        list_id = id_or_404(list_id, "List")
        place = order.Place.of(body)
        moved = await db.fetchrow(
            order.move_list(place), id=list_id, now=utcnow(), **place.parameters(body)
        )
        if moved is None:
            one_or_404(await db.fetchrow(list_queries.GET, id=list_id), "List")
            await order.misplaced(db, list_queries.GET, list_id, place, body, {})
        return tagged_response(moved)

    return router
