"""Task: T-081
Spec: specs/operations/battery.md §Load

The clients: each sends creates, completes, reads and lists as one user, and writes every
answer into the scenario's ledger. Loops are bounded in time and in count, and clients pace
themselves: the battery looks for wrong answers, not for the most requests two cores can send.
"""

import asyncio
import random
import secrets
import time
from collections.abc import Awaitable
from dataclasses import dataclass

import httpx

from battery.ledger import Ledger
from harness.server import Account, account

# Long enough for a request queued behind an outage; short enough that a hung server shows.
TIMEOUT = 15.0


@dataclass(frozen=True)
class Load:
    seconds: float
    clients: int = 6
    pause: float = 0.02  # between a client's requests
    backoff: float = 0.1  # after an error, so an outage is not a busy loop
    max_requests: int = 2000  # per client, whatever the clock says


async def send(ledger: Ledger, request: Awaitable[httpx.Response]) -> httpx.Response | None:
    """Send, record the answer, and return it (None when the transport failed)."""
    try:
        response = await request
    except httpx.HTTPError as exc:  # refused, reset, timed out: no answer at all
        ledger.record(exc)
        return None
    ledger.record(response)
    return response


async def accounts(base: str, count: int) -> list[Account]:
    """Users registered through the API, with addresses no other run shares."""
    async with httpx.AsyncClient(base_url=base, timeout=TIMEOUT) as client:
        run = secrets.token_hex(4)
        return [await account(client, f"battery-{run}-{n}@example.com") for n in range(count)]


async def mixed(
    base: str,
    users: list[Account],
    ledger: Ledger,
    load: Load,
    stop: asyncio.Event | None = None,
) -> None:
    """`load.clients` clients, spread over `users`, for `load.seconds` or until `stop` is set."""
    deadline = time.monotonic() + load.seconds
    run = secrets.token_hex(4)
    limits = httpx.Limits(max_connections=load.clients, max_keepalive_connections=load.clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=TIMEOUT) as client:

        async def one_client(number: int) -> None:
            auth = users[number % len(users)].headers
            mine: list[str] = []  # this client's acknowledged tasks
            done: set[str] = set()
            for n in range(load.max_requests):
                if time.monotonic() >= deadline or (stop and stop.is_set()):
                    return
                step = n % 6
                if step in (0, 4) or not mine:
                    title = f"{run}-{number}-{n}"  # used once: two copies are a duplicate
                    # Half the creates go through the Idempotency-Key path, which has its own
                    # lock and table to get wrong under faults.
                    key = {"Idempotency-Key": title} if step == 0 else {}
                    ledger.titles.add(title)
                    request = client.post(
                        "/api/v1/tasks", json={"title": title}, headers=auth | key
                    )
                    response = await send(ledger, request)
                    if response is not None and response.status_code == 201:
                        task_id = response.json()["id"]
                        ledger.created[task_id] = title
                        mine.append(task_id)
                elif step == 3 and (open_tasks := [t for t in mine if t not in done]):
                    task_id = random.choice(open_tasks)
                    request = client.patch(f"/api/v1/tasks/{task_id}/complete", headers=auth)
                    response = await send(ledger, request)
                    if response is not None and response.status_code == 200:
                        ledger.completed.add(task_id)
                        done.add(task_id)
                elif step == 1:
                    request = client.get("/api/v1/tasks", params={"limit": 20}, headers=auth)
                    response = await send(ledger, request)
                else:
                    request = client.get(f"/api/v1/tasks/{random.choice(mine)}", headers=auth)
                    response = await send(ledger, request)
                failed = response is None or response.status_code >= 400
                await asyncio.sleep(load.backoff if failed else load.pause)

        await asyncio.gather(*(one_client(number) for number in range(load.clients)))
