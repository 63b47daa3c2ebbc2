"""Task: T-132, T-209, T-279
Spec: specs/api/rest-endpoints.md §Changes

Reading a user's feed: one page of the change log after a position, in one statement.

A page holds only changes of transactions older than the watermark (`queries.PAGE`), in
`(transaction id, sequence)` order. Whatever commits later, in any order, has a transaction id
at or above the watermark of every page already read, so it lands after them: a client that
keeps the page's `next` position misses nothing and sees nothing twice.

A row its serializer cannot show (a value written by hand that the plugin's API rejects) does
not fail the page: that change comes with `data: null` and a `problem`, the others as usual.
"""

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from app.core import Executor, Row
from app.plugins.changes.cursors import Position
from app.plugins.changes.queries import PAGE

logger = logging.getLogger("todo_api")
# What a change whose row cannot be shown says instead, for the client to act on.
UNRENDERABLE = (
    "This change's row could not be shown; its own resource (GET it by id) has the current state"
)

Serialize = Callable[[Mapping[str, Any]], Mapping[str, Any]]


@dataclass(frozen=True)
class Entry:
    position: Position
    body: dict[str, Any]  # what the client gets: type, id, op, version, at, data


@dataclass(frozen=True)
class Page:
    entries: list[Entry]
    next: Position  # where the next page starts
    more: bool  # more changes are waiting now
    pending: bool  # changes of the caller's are in transactions not yet behind the watermark
    expired: bool  # the purge has deleted changes after the requested position


def _body(row: Row, serializers: Mapping[str, Serialize]) -> dict[str, Any]:
    serialize = serializers.get(row["entity"])
    data = row["data"]
    body = {
        "type": row["entity"],
        "id": row["entity_id"],
        "op": row["op"],
        "version": row["version"],
        "at": row["at"],
        # Without the entity's serializer, no row: the change says what moved, not its content.
        "data": None,
    }
    if serialize is not None and data is not None:
        try:
            body["data"] = serialize(data)
        except Exception as error:
            # Logged without the row (a validation error's text quotes the values).
            logger.warning(
                "change feed: %s change %s.%s of %s %s could not be shown: %s",
                row["op"],
                row["xid"],
                row["seq"],
                row["entity"],
                row["entity_id"],
                type(error).__name__,
            )
            body["problem"] = UNRENDERABLE
    return body


async def read(
    db: Executor, after: Position, limit: int, serializers: Mapping[str, Serialize]
) -> Page:
    """The caller's changes after `after` (`db` is scoped to the caller), at most `limit`."""
    rows = await db.fetch(PAGE, after_xid=after[0], after_seq=after[1], limit=limit + 1)
    first = rows[0]  # the watermark's row is always there, with or without changes
    if first["expired"]:
        return Page([], after, more=False, pending=False, expired=True)
    found = [row for row in rows if row["xid"] is not None]
    more = len(found) > limit
    entries = [Entry((row["xid"], row["seq"]), _body(row, serializers)) for row in found[:limit]]
    # Without more, everything before the watermark has been read: the next page starts
    # there, so a quiet user's cursor moves on too (and does not fall behind the purge).
    position = entries[-1].position if more else max(after, (first["xmin"], 0))
    return Page(entries, position, more=more, pending=first["pending"], expired=False)
