"""Task: T-388
Spec: specs/features/authentication.md §Mail

A real SMTP server on loopback (aiosmtpd), started by the test, keeping the messages it gets;
and an app sending through it by the job queue.
"""

import asyncio
import email
import re
import socket
import time
from collections.abc import Iterator
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller

ENABLED = ("health", "auth", "jobs", "mail")
FAST_JOBS = {"lease_seconds": 1, "poll_seconds": 0.2}
LINK = re.compile(r"/(?:reset-password|verify-email)/([A-Za-z0-9_-]+)")


class Inbox:
    """What the SMTP server received, as parsed messages."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.refuse = 0  # messages to refuse with a temporary failure first

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            self.refuse -= 1
            return "451 Requested action aborted: try again later"
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]

    async def wait_for(self, address: str, count: int = 1, seconds: float = 20) -> list[Message]:
        """The messages to `address` once there are `count`; generous: the machine is shared."""
        deadline = time.monotonic() + seconds
        while len(self.to(address)) < count:
            assert time.monotonic() < deadline, f"no mail to {address} within {seconds} s"
            await asyncio.sleep(0.05)
        return self.to(address)


def token_of(message: Message) -> str:
    body = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
    found = LINK.search(body)
    assert found, body
    return found.group(1)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


@pytest.fixture
def inbox(smtp: tuple[Inbox, int]) -> Inbox:
    return smtp[0]


@pytest.fixture
async def mailing(make_client, smtp):
    """An app whose job worker sends auth's mail to the loopback SMTP server."""

    async def make(**tables: dict[str, Any]) -> Any:
        return await make_client(
            enabled=ENABLED,
            tables={"jobs": FAST_JOBS} | tables,
            environment={"SMTP_URL": f"smtp://127.0.0.1:{smtp[1]}", "MAIL_FROM": "Todo <t@x.test>"},
        )

    return make
