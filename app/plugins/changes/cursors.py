"""Task: T-132, T-216
Spec: specs/api/rest-endpoints.md §Changes

Feed cursors: a position in the change log, `(transaction id, sequence)`, as an opaque string.

Changes are handed out in that order and only once every transaction older than them has ended
(`log.py`), so "after this position" is exactly what a client has not seen yet.
"""

import base64
import binascii

from fastapi.exceptions import RequestValidationError

from app.core import invalid

Position = tuple[int, int]
# Before every change: the whole log (410 if any of it has been purged).
START: Position = (0, 0)
NOW = "now"
# Both parts are `bigint` columns (`changes.xid`, `changes.seq`): a cursor past them names no
# position, and would reach the statement as a number PostgreSQL cannot bind (a 500).
LARGEST = 2**63 - 1
Loc = tuple[str, ...]


def encode(position: Position) -> str:
    raw = f"{position[0]}.{position[1]}".encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _malformed(loc: Loc) -> RequestValidationError:
    return invalid(loc, "Invalid cursor: malformed")


def decode(cursor: str, loc: Loc) -> Position:
    """The position a cursor names; a 422 naming `loc` (where the cursor came from:
    `("query", "since")`, `("header", "Last-Event-ID")`) when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _malformed(loc) from None
    parts = raw.split(".")
    # Plain ASCII digits only: int() would also take "+1", " 1", "1_0" and other scripts' digits.
    if len(parts) != 2 or not all(part.isascii() and part.isdigit() for part in parts):
        raise _malformed(loc)
    xid, seq = int(parts[0]), int(parts[1])
    if xid > LARGEST or seq > LARGEST:
        raise invalid(loc, f"Invalid cursor: out of range (each part at most {LARGEST})")
    return xid, seq
