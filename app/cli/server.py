"""Task: T-073, T-228
Spec: specs/api/rest-endpoints.md §Limits; specs/features/plugins.md §Command line

How `todo-api serve` runs uvicorn: `uvicorn_options(settings)`.

- uvloop and httptools: the fastest loop and parser uvicorn has.
- No `Server` header: it only tells a scanner what to try.
- The access log only with `ACCESS_LOG=true`: one synchronous write a request otherwise.
- `X-Forwarded-For`/`-Proto` believed only from the proxies named in `FORWARDED_ALLOW_IPS`, and
  ignored when it is empty. uvicorn's own default trusts 127.0.0.1, so behind a local proxy any
  client could choose the address the app sees (and the login throttle counts by).
- A ceiling on the request head, which httptools lacks: it gathers each header in memory, of any
  size, before uvicorn sees it (a 100 MB header was accepted). `BoundedHttpToolsProtocol`
  answers 431 and closes the connection when a head passes `MAX_HEAD_BYTES` or `MAX_HEADERS`:
  while the head is still arriving, once the reads that began and ended inside it pass the
  limit; when it is complete, by its exact size and number of fields. Nothing is counted per
  header: the exact size is summed only for a head that came in more than one read, or in one
  read larger than the limit — a normal request's head comes in one small read.
- A lingering close. An answer with `Connection: close` given before the request's body has all
  arrived (the edge's 413 for a body over the limit) makes uvicorn close the socket with the
  client's bytes unread: the kernel then resets the connection, and a reverse proxy still
  sending the body (nginx buffers it, then sends it whole) gets a broken pipe and answers 502
  instead of the 413. So the connection is closed only once the body has ended, after reading
  and discarding at most `LINGER_BYTES` more of it for at most `LINGER_SECONDS` (or
  `timeout_keep_alive` if not a byte comes), as nginx's own `lingering_close` does. (A client
  that asked `Expect: 100-continue` and got the answer instead sends no body, and closes.)
  Nothing read while lingering is a request: the parser stops where the body ends.
"""

import asyncio
from collections.abc import Callable
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from app.core.http.problems import MEDIA_TYPE, Problem
from app.core.settings import Settings

MAX_HEAD_BYTES = 16 * 1024
MAX_HEADERS = 100
LINGER_BYTES = 16 * 1024 * 1024
LINGER_SECONDS = 10.0

_REFUSAL = (
    Problem(
        title="Request Header Fields Too Large",
        status=431,
        detail=f"Request head too large: at most {MAX_HEAD_BYTES} bytes and {MAX_HEADERS} fields",
    )
    .model_dump_json(exclude_none=True)
    .encode()
)


class HeadTooLarge(Exception):
    """Raised in a parser callback: httptools stops parsing, uvicorn answers a bad request."""


class _BodyEnded(Exception):
    """Raised in a parser callback while lingering: httptools parses nothing after the body."""


class _CycleTransport:
    """The connection as a request's cycle (uvicorn's `RequestResponseCycle`) sees it: the
    same writes, but a close that waits for the request's body to end."""

    __slots__ = ("close", "is_closing", "write")

    def __init__(self, transport: asyncio.Transport, close: Callable[[], None]) -> None:
        self.write = transport.write
        self.is_closing = transport.is_closing
        self.close = close


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    # The methods every request calls name their base class: half the cost of super().

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = False
        self._continued = False  # the read being parsed began inside a head
        self._read_size = 0  # the read being parsed
        self._unfinished_bytes = 0  # the reads that began and ended inside the current head
        self._too_large = False
        self._body_done = False  # the last request's body has all arrived
        self._lingering: asyncio.TimerHandle | None = None  # closes the connection at the latest
        self._linger_left = 0  # bytes still to be read and discarded before closing

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        HttpToolsProtocol.connection_made(self, transport)
        self._cycle_transport = _CycleTransport(transport, self._close_after_body)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._lingering is not None:
            self._lingering.cancel()
            self._lingering = None
        HttpToolsProtocol.connection_lost(self, exc)

    def data_received(self, data: bytes) -> None:
        if self._lingering is not None:
            self._linger(data)
            return
        self._continued = self._in_head
        self._read_size = len(data)
        HttpToolsProtocol.data_received(self, data)
        if self._continued and self._in_head:
            # All head, a header httptools is still gathering included.
            self._unfinished_bytes += len(data)
            if self._unfinished_bytes > MAX_HEAD_BYTES:
                self._refuse()

    def on_message_begin(self) -> None:
        HttpToolsProtocol.on_message_begin(self)
        self._in_head = True
        self._unfinished_bytes = 0
        self._body_done = False

    def on_headers_complete(self) -> None:
        self._in_head = False
        # A head that came in one read no larger than the limit is within it: no need to sum.
        if len(self.headers) > MAX_HEADERS or (
            (self._continued or self._read_size > MAX_HEAD_BYTES)
            and len(self.url) + sum(len(name) + len(value) for name, value in self.headers)
            > MAX_HEAD_BYTES
        ):
            self._too_large = True
            raise HeadTooLarge  # before uvicorn starts the app on it
        HttpToolsProtocol.on_headers_complete(self)
        if self.cycle is not None:
            self.cycle.transport = self._cycle_transport  # type: ignore[assignment]

    def on_message_complete(self) -> None:
        self._body_done = True
        if self._lingering is not None:
            raise _BodyEnded
        HttpToolsProtocol.on_message_complete(self)

    def send_400_response(self, msg: str) -> None:
        # uvicorn's answer to every parser error, HeadTooLarge included.
        if self._too_large:
            self._refuse()
        else:
            super().send_400_response(msg)

    def _close_after_body(self) -> None:
        """A cycle closes the connection: at once if the request's body has ended, else once
        it has, within the bounds."""
        if self._body_done or self.transport.is_closing():
            self.transport.close()
            return
        self._linger_left = LINGER_BYTES
        self._lingering = self.loop.call_later(LINGER_SECONDS, self._stop_lingering)
        self.pipeline.clear()  # requests queued behind this answer are never served, as on close

    def _linger(self, data: bytes) -> None:
        # Not idle keep-alive: uvicorn armed that timeout when the answer went out.
        self._unset_keepalive_if_required()
        self._linger_left -= len(data)
        if self._linger_left >= 0:
            try:
                self.parser.feed_data(data)  # on_body drops it: the answer is complete
                return
            except httptools.HttpParserError:  # _BodyEnded, or bytes that are no HTTP
                pass
        self._stop_lingering()

    def _stop_lingering(self) -> None:
        if self._lingering is not None:
            self._lingering.cancel()
            self._lingering = None
        self.transport.close()

    def _refuse(self) -> None:
        self._in_head = False
        self.logger.warning("Request head too large: answered 431 and closed the connection.")
        head = [STATUS_LINE[431]]
        for name, value in self.server_state.default_headers:
            head.append(name + b": " + value + b"\r\n")
        head.append(f"content-type: {MEDIA_TYPE}\r\n".encode())
        head.append(f"content-length: {len(_REFUSAL)}\r\n".encode())
        head.append(b"x-content-type-options: nosniff\r\nconnection: close\r\n\r\n")
        self.transport.write(b"".join(head) + _REFUSAL)
        self.transport.close()


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Everything `uvicorn.run` needs from the settings (the CLI adds host, port and workers)."""
    return {
        "loop": "uvloop",
        "http": BoundedHttpToolsProtocol,
        "server_header": False,
        "proxy_headers": bool(settings.forwarded_allow_ips),
        "forwarded_allow_ips": settings.forwarded_allow_ips,
        "log_level": settings.log_level.lower(),
        "access_log": settings.access_log,
    }
