"""Task: T-070
Spec: specs/api/rest-endpoints.md §Headers; specs/features/plugins.md §Assembly

The edge: the one middleware every HTTP request crosses, pure ASGI, constant work per request.

    Edge, outside: the request id and the response headers
      → CORS
        → Edge, inside: unexpected errors become the 500 problem
          → FastAPI's exception handlers → the routes

The edge owns the CORS middleware rather than sitting next to it, because each half must be on
its own side of it: CORS answers preflights without calling further in, so ids and headers are
added outside to reach those answers too; an unexpected error is answered inside, so the 500
carries `Access-Control-Allow-Origin` and a browser can read it. That 500 is an ordinary
response, never re-raised, so the server keeps the connection open for the client's next
request instead of dropping it.
"""

import os
import re

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core import problems
from app.core.marks import is_no_store
from app.core.settings import Settings

# A client's own request id is kept when it is this: enough for a UUID or a trace id, and
# nothing that could forge a log line or a header.
_CLIENT_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
_REQUEST_ID = problems.REQUEST_ID_HEADER.lower().encode()
_NO_STORE = (b"cache-control", b"no-store")
_PASSAGE = "todo_api.edge"  # the scope key where the inside finds the outside's _Passage


class _Passage:
    """One request crossing the edge: what the outside found out, and whether it has answered."""

    __slots__ = ("authorized", "edge", "request_id", "scope", "started", "upstream")

    def __init__(self, edge: "Edge", scope: Scope, send: Send) -> None:
        self.edge = edge
        self.scope = scope
        self.upstream = send
        self.started = False
        self.authorized = False
        request_id = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                self.authorized = True
            elif name == _REQUEST_ID and _CLIENT_REQUEST_ID.fullmatch(value):
                request_id = value
        self.request_id = request_id or os.urandom(16).hex().encode()
        scope["request_id"] = self.request_id.decode()  # for the logs and the 500's body
        scope[_PASSAGE] = self

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
            headers = [
                *message.get("headers", ()),
                *self.edge.always,
                (_REQUEST_ID, self.request_id),
            ]
            # A credentialed answer, or one a route marked, must not sit in any cache; a route
            # that chose its own Cache-Control keeps it.
            if (self.authorized or is_no_store(self.scope.get("endpoint"))) and not any(
                name.lower() == b"cache-control" for name, _ in headers
            ):
                headers.append(_NO_STORE)
            message["headers"] = headers
        await self.upstream(message)


class Edge:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            self._inside,
            allow_origins=settings.allowed_origins,
            allow_credentials=True,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["ETag", "Location", "Link", "Retry-After", problems.REQUEST_ID_HEADER],
        )
        self.always = [(b"x-content-type-options", b"nosniff")]
        if settings.hsts_seconds:
            hsts = f"max-age={settings.hsts_seconds}".encode()
            self.always.append((b"strict-transport-security", hsts))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.cors(scope, receive, _Passage(self, scope, send).send)

    async def _inside(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            if scope[_PASSAGE].started:
                raise  # half an answer is out: only dropping the connection can tell the client
            await problems.unexpected(scope, exc)(scope, receive, send)


def install(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(Edge, settings=settings)
