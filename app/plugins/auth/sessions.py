"""Task: T-390, T-391
Spec: specs/features/authentication.md §Sessions; specs/api/rest-endpoints.md §Auth

`/api/v1/auth/sessions`: the caller's sessions (refresh-token families), and ending them. Each
answer is read from the database, never a cache, so an ended session's refresh token is refused
by every instance from the moment the answer is sent.
"""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request, Response, status

from app.core import DB, CurrentUser, json_response
from app.plugins.auth import refresh
from app.plugins.auth.account_schemas import SessionOut
from app.plugins.auth.bearer import session_of

# A longer `User-Agent` is cut: it is shown, never parsed, and a client must not store megabytes.
USER_AGENT_CHARACTERS = 512


SessionId = Annotated[
    str,
    Path(
        description="The session's id (`id` in the list, `sid` in its access tokens); one that "
        "names no live session of yours is a 404",
        examples=["5f0c3a1e9b2d4c7e8a6f1b3d5e7c9a20"],
    ),
]


def client_of(request: Request) -> refresh.Client:
    """The request's user agent and address. The address is the socket's: uvicorn puts a
    forwarded one there only for the proxies named in FORWARDED_ALLOW_IPS, so a client cannot
    choose its own."""
    agent = request.headers.get("user-agent")
    if agent is not None:
        # PostgreSQL text holds no NUL; a header decoded as latin-1 may carry one.
        agent = agent.replace("\x00", "")[:USER_AGENT_CHARACTERS] or None
    return refresh.Client(agent, request.client.host if request.client else None)


def build_router() -> APIRouter:
    router = APIRouter(prefix="/auth", tags=["auth"])

    @router.get(
        "/sessions",
        response_model=list[SessionOut],
        description="Your live sessions, most recently used first: when each began and was "
        "last used, by which user agent from which address, and which is the one of the access "
        "token presented (`current`).",
    )
    async def sessions(user: CurrentUser, request: Request, db: DB) -> Response:
        current = session_of(request)
        rows = await db.fetch(refresh.SESSIONS, user_id=user.id)
        return json_response(
            [
                SessionOut.model_validate(dict(row) | {"current": row["id"] == current})
                for row in rows
            ]
        )

    @router.delete(
        "/sessions/{session_id}",
        status_code=status.HTTP_204_NO_CONTENT,
        summary="End a session",
        responses={404: {"description": "No session of yours still to end has this id"}},
        description="Ends one of your sessions (this one too, if named): its refresh tokens are "
        "refused from now on, on every instance. Its access tokens live out their short "
        "lifetime.",
    )
    async def end_session(session_id: SessionId, user: CurrentUser, db: DB) -> Response:
        # An id no family can have (they are 32 hex digits) is looked up all the same, unless
        # PostgreSQL could not store it: one answer, 404, for every session not yours.
        if "\x00" in session_id or not await refresh.end_session(db, user.id, session_id):
            raise HTTPException(status.HTTP_404_NOT_FOUND, "Session not found")
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.delete(
        "/sessions",
        status_code=status.HTTP_204_NO_CONTENT,
        summary="End every other session",
        description="Ends all your sessions but the one of the access token presented (all of "
        "them when it names none, as a Better Auth token does not).",
    )
    async def end_other_sessions(user: CurrentUser, request: Request, db: DB) -> Response:
        await refresh.end_other_sessions(db, user.id, session_of(request))
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router
