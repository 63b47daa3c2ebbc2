"""Task: T-073
Spec: specs/api/rest-endpoints.md §Limits; specs/features/plugins.md §Command line

How `todo-api serve` runs uvicorn: `uvicorn_options(settings)`.

- uvloop and httptools: the fastest loop and parser uvicorn has.
- No `Server` header: it only tells a scanner what to try.
- `X-Forwarded-For`/`-Proto` believed only from the proxies named in `FORWARDED_ALLOW_IPS`, and
  ignored when it is empty. uvicorn's own default trusts 127.0.0.1, so behind a local proxy any
  client could choose the address the app sees (and the login throttle counts by).
- A ceiling on the request head, which httptools lacks: it gathers each header in memory, of any
  size, before uvicorn sees it (a 100 MB header was accepted). `BoundedHttpToolsProtocol` counts
  the request target and header fields as they are parsed, and the bytes of every read that ends
  inside an unfinished head, and answers 431 and closes once either passes `MAX_HEAD_BYTES`, or
  the fields pass `MAX_HEADERS`.
"""

from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from app.core.problems import MEDIA_TYPE, Problem
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
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = False
        self._head_bytes = 0  # the request target and the finished header fields, exactly
        self._head_fields = 0
        self._unfinished_bytes = 0  # whole reads that arrived inside an unfinished head
        self._too_large = False

    def data_received(self, data: bytes) -> None:
        in_head_before = self._in_head
        super().data_received(data)
        # A read that began and ended inside the head is all head, a field httptools is still
        # gathering included, which the exact count cannot see yet.
        if in_head_before and self._in_head:
            self._unfinished_bytes += len(data)
            if self._unfinished_bytes > MAX_HEAD_BYTES:
                self._refuse()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._head_bytes = self._head_fields = self._unfinished_bytes = 0

    def on_url(self, url: bytes) -> None:
        self._count(len(url), fields=0)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value), fields=1)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def _count(self, size: int, fields: int) -> None:
        self._head_bytes += size
        self._head_fields += fields
        if self._head_bytes > MAX_HEAD_BYTES or self._head_fields > MAX_HEADERS:
            self._too_large = True
            raise HeadTooLarge

    def send_400_response(self, msg: str) -> None:
        # uvicorn's answer to every parser error, the one `_count` raises included.
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
    }
