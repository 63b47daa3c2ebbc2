"""Task: T-442
Spec: specs/features/mcp.md §Dispatch

A tool call becomes a call of the API's own route, in this process: an ASGI call into the same
app (no socket, no network), carrying the caller's `Authorization` header. Validation, scopes,
isolation, problems, ETags, change events and webhooks are then the route's own.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.types import ASGIApp, Message, Scope

API = "/api/v1"
# What the inner request inherits from the outer one: the server it reached, its client (whom
# rate limits and logs name) and the app's lifespan state.
_INHERITED = ("http_version", "scheme", "server", "client", "root_path", "state", "app")


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any  # the decoded JSON body; None when there is none
    links: list[str]  # the `Link` header's entries (a list's next page)
    raw: bytes = b""  # the body as the route sent it

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


async def call(
    app: ASGIApp,
    outer: Scope,
    method: str,
    path: str,
    query: Mapping[str, Any] | None = None,
    body: Any = None,
) -> Answer:
    """`method` `path` (under /api/v1) on `app`, as the caller of the `outer` request."""
    content = b"" if body is None else orjson.dumps(body)
    headers = [
        (name, value)
        for name, value in outer["headers"]
        if name in (b"authorization", b"x-forwarded-for", b"x-forwarded-proto", b"host")
    ]
    headers += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(content))]
    scope: dict[str, Any] = {
        **{key: outer[key] for key in _INHERITED if key in outer},
        "type": "http",
        "method": method,
        "path": API + path,
        "raw_path": (API + path).encode(),
        "query_string": urlencode(query or {}, doseq=True).encode(),
        "headers": headers,
    }
    sent = False
    status = 500
    links: list[str] = []
    chunks: list[bytes] = []

    async def receive() -> Message:
        nonlocal sent
        if sent:  # the route reads the body once; then the client is "gone"
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": content, "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            links.extend(
                entry.strip()
                for name, value in message.get("headers", ())
                if name.lower() == b"link"
                for entry in value.decode("latin-1").split(",")
            )
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    raw = b"".join(chunks)
    return Answer(status, orjson.loads(raw) if raw else None, links, raw)
