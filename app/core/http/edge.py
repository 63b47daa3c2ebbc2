"""Task: T-070, T-154
Spec: specs/api/rest-endpoints.md §Headers, §Limits; specs/features/plugins.md §Assembly

The edge: the one middleware every HTTP request crosses, pure ASGI, constant work per request.
"""

import random
import re

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.http import problems
from app.core.http.marks import body_limit_of, is_no_store
from app.core.settings import Settings

MAX_QUERY_PARAMS = 100

# A client's own request id is kept when it is this: enough for a UUID or a trace id, and
# nothing that could forge a log line or a header.
_CLIENT_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
_REQUEST_ID = problems.REQUEST_ID_HEADER.lower().encode()
_NO_STORE = (b"cache-control", b"no-store")
_VARY_ORIGIN = (b"vary", b"Origin")
_PASSAGE = "todo_api.edge"  # the scope key where the inside finds the outside's _Passage


def _too_large(limit: int) -> HTTPException:
    # The rest of the body stays unread, so the connection cannot carry another request.
    return HTTPException(
        413, f"Request body too large: at most {limit} bytes", headers={"Connection": "close"}
    )


class _Passage:
    """One request crossing the edge: what the outside found out, and whether it has answered."""

    __slots__ = (
        "authorized",
        "cross_origin",
        "edge",
        "length",
        "limit",
        "received",
        "request_id",
        "scope",
        "started",
        "upstream_receive",
        "upstream_send",
    )

    def __init__(self, edge: "Edge", scope: Scope, receive: Receive, send: Send) -> None:
        self.edge = edge
        self.scope = scope
        self.upstream_receive = receive
        self.upstream_send = send
        self.started = False
        self.authorized = False
        self.cross_origin = False
        self.length: int | None = None  # Content-Length, when the client declared one
        self.limit: int | None = None  # the route's body limit, known at the first read
        self.received = 0
        request_id = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                self.authorized = True
            elif name == b"content-length" and value.isdigit():
                self.length = int(value)
            elif name == b"origin":
                self.cross_origin = True
            elif name == _REQUEST_ID and _CLIENT_REQUEST_ID.fullmatch(value):
                request_id = value
        # An id is no secret, only unique: 128 bits from the fast generator (a quarter of the
        # cost of os.urandom, a sixteenth of uuid4).
        self.request_id = request_id or random.getrandbits(128).to_bytes(16).hex().encode()
        scope["request_id"] = self.request_id.decode()  # for the logs and the 500's body
        scope[_PASSAGE] = self

    async def receive(self) -> Message:
        if self.limit is None:  # the first read: the route asks, so routing is over
            self.limit = body_limit_of(self.scope.get("endpoint"), self.edge.default_body)
            if self.length is not None and self.length > self.limit:
                raise _too_large(self.limit)
        message = await self.upstream_receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                raise _too_large(self.limit)
        return message

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
            headers = [
                *message.get("headers", ()),
                *self.edge.always,
                (_REQUEST_ID, self.request_id),
            ]
            if not self.cross_origin:
                headers.append(_VARY_ORIGIN)
            # A credentialed answer, or one a route marked, must not sit in any cache; a route
            # that chose its own Cache-Control keeps it.
            if (self.authorized or is_no_store(self.scope.get("endpoint"))) and not any(
                name.lower() == b"cache-control" for name, _ in headers
            ):
                headers.append(_NO_STORE)
            message["headers"] = headers
        await self.upstream_send(message)

    async def send_head(self, message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await self.send(message)


class Edge:
    def __init__(self, app: ASGIApp, settings: Settings, largest_body: int) -> None:
        self.app = app
        self.default_body = settings.max_body_bytes
        self.largest_body = largest_body
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
        head = scope["method"] == "HEAD"
        if head:
            # A copy: the server keeps its own scope, where HEAD tells it to send no body either.
            scope = {**scope, "method": "GET"}
        passage = _Passage(self, scope, receive, send)
        app = self.cors if passage.cross_origin else self._inside
        try:
            await app(scope, passage.receive, passage.send_head if head else passage.send)
        finally:
            # The scope and the passage refer to each other: a cycle, which only the garbage
            # collector would free, keeping each request's objects alive past it (4 µs a
            # request, measured). Leaving the scope, the passage breaks it.
            del scope[_PASSAGE]

    async def _inside(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal = self._refusal(scope)
        if refusal is not None:
            await problems.from_http_exception(refusal)(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            if scope[_PASSAGE].started:
                raise  # half an answer is out: only dropping the connection can tell the client
            await problems.unexpected(scope, exc)(scope, receive, send)

    def _refusal(self, scope: Scope) -> HTTPException | None:
        """What is wrong with the request before any route looks at it, if anything."""
        if scope["query_string"].count(b"&") >= MAX_QUERY_PARAMS:
            return HTTPException(400, f"Too many query parameters: at most {MAX_QUERY_PARAMS}")
        length = scope[_PASSAGE].length
        if length is not None and length > self.largest_body:
            return _too_large(self.largest_body)
        return None


def install(app: FastAPI, settings: Settings) -> None:
    """Put the edge around `app` once every route is mounted: it needs their body limits."""
    default = settings.max_body_bytes
    endpoints = (
        getattr(r.original_route, "endpoint", None) for r in iter_route_contexts(app.routes)
    )
    largest = max((body_limit_of(endpoint, default) for endpoint in endpoints), default=default)
    app.add_middleware(Edge, settings=settings, largest_body=largest)
