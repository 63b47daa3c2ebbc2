"""Task: T-073
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
"""

from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from app.core.http.problems import MEDIA_TYPE, Problem
from app.core.settings import Settings

MAX_HEAD_BYTES = 16 * 1024
MAX_HEADERS = 100

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


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    # The methods every request calls name their base class: half the cost of super().

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = False
        self._continued = False  # the read being parsed began inside a head
        self._read_size = 0  # the read being parsed
        self._unfinished_bytes = 0  # the reads that began and ended inside the current head
        self._too_large = False

    def data_received(self, data: bytes) -> None:
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

    def send_400_response(self, msg: str) -> None:
        # uvicorn's answer to every parser error, HeadTooLarge included.
        if self._too_large:
            self._refuse()
        else:
            super().send_400_response(msg)

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
