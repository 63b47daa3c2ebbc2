"""Task: T-144
Spec: specs/api/rest-endpoints.md §Changes

Reading a `text/event-stream` response, for the change feed's tests and `make bench`.
"""

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class Event:
    event: str
    id: str | None
    data: Any  # the `data` field, decoded from JSON


async def events(response: httpx.Response) -> AsyncIterator[Event | str]:
    """The stream's events, and its comment lines (heartbeats) as strings."""
    fields: dict[str, str] = {}
    async for line in response.aiter_lines():
        if line.startswith(":"):
            yield line
        elif line:
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
        elif fields:
            yield Event(
                fields.get("event", "message"), fields.get("id"), json.loads(fields["data"])
            )
            fields = {}


async def next_event(stream: AsyncIterator[Event | str], seconds: float = 5) -> Event:
    """The next event, skipping heartbeats; fails after `seconds`."""
    async with asyncio.timeout(seconds):
        async for item in stream:
            if isinstance(item, Event):
                return item
    raise AssertionError("the stream ended")
