"""Task: T-132
Spec: specs/api/rest-endpoints.md §Changes

Feed cursors: a position in the change log, `(transaction id, sequence)`, as an opaque string.

Changes are handed out in that order and only once every transaction older than them has ended
(`log.py`), so "after this position" is exactly what a client has not seen yet.
"""

import base64
import binascii

from fastapi import HTTPException, status

Position = tuple[int, int]
# Before every change: the whole log (410 if any of it has been purged).
START: Position = (0, 0)
NOW = "now"


def encode(position: Position) -> str:
    raw = f"{position[0]}.{position[1]}".encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode(cursor: str) -> Position:
    """The position a cursor names; 422 when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        xid, seq = (int(part) for part in raw.split("."))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "Invalid cursor: malformed"
        ) from None
    if xid < 0 or seq < 0:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "Invalid cursor: malformed")
    return xid, seq
