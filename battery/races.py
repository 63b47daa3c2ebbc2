"""Task: T-084
Spec: specs/operations/battery.md §Two instances

Scenario 4: two app instances on one database, and the same request sent 50 times at once,
split between them, so only the database can serialise them.

- One refresh token, refreshed 50 times: every refresh wins (racing tabs, within the refresh
  grace window), on both instances.
- One `Idempotency-Key` on 50 creates with one body: exactly one task may exist, and every
  answer is the first one's `201`.
"""

import asyncio
import secrets
from collections import Counter
from pathlib import Path

import httpx

from battery.ledger import Ledger
from battery.load import TIMEOUT, send
from battery.postgres import fresh_postgres
from battery.report import Table
from harness.server import Account, account, serving

RACERS = 50


async def refresh_race(clients: list[httpx.AsyncClient], user: Account, ledger: Ledger) -> None:
    body = {"refresh_token": user.refresh_token}
    responses = await asyncio.gather(
        *(
            send(ledger, clients[n % len(clients)].post("/api/v1/auth/refresh", json=body))
            for n in range(RACERS)
        )
    )
    winners = Counter(
        n % len(clients) + 1  # which instance answered
        for n, response in enumerate(responses)
        if response is not None and response.status_code == 200
    )
    split = ", ".join(f"{count} on instance {i}" for i, count in sorted(winners.items()))
    ledger.notes.append(f"{winners.total()} of {RACERS} refreshes won ({split or 'none'})")


async def idempotent_race(
    clients: list[httpx.AsyncClient], user: Account, ledger: Ledger, dsn: str
) -> None:
    title = f"idempotent-{secrets.token_hex(4)}"
    ledger.titles.add(title)
    headers = user.headers | {"Idempotency-Key": title}
    responses = await asyncio.gather(
        *(
            send(
                ledger,
                clients[n % len(clients)].post(
                    "/api/v1/tasks", json={"title": title}, headers=headers
                ),
            )
            for n in range(RACERS)
        )
    )
    for response in responses:
        if response is not None and response.status_code == 201:
            ledger.created[response.json()["id"]] = title
    await ledger.reconcile(dsn)
    ledger.notes.append(
        f"{ledger.stored} task(s) stored for the key; "
        f"the 201s named {len(ledger.created)} distinct task id(s)"
    )
    if ledger.stored != 1:
        ledger.problems.append(f"one Idempotency-Key left {ledger.stored} tasks, not 1")


async def two_instances(folder: Path, table: Table) -> None:
    # Inside the grace window every racing refresh gets a pair: a 401 fails the row.
    refreshes = table.ledger(f"2 instances: {RACERS} refreshes")
    creates = table.ledger(f"2 instances: {RACERS} creates, 1 key")
    secret = secrets.token_urlsafe(48)  # each instance accepts the other's access tokens
    async with (
        fresh_postgres(folder / "postgres") as postgres,
        serving(postgres.url, folder, secret=secret, log=folder / "server-1.log") as first,
        serving(postgres.url, folder, secret=secret, log=folder / "server-2.log") as second,
        httpx.AsyncClient(base_url=first, timeout=TIMEOUT) as one,
        httpx.AsyncClient(base_url=second, timeout=TIMEOUT) as other,
    ):
        user = await account(one, f"race-{secrets.token_hex(4)}@example.com")
        await refresh_race([one, other], user, refreshes)
        await idempotent_race([one, other], user, creates, postgres.dsn)
