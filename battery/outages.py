"""Task: T-083
Spec: specs/operations/battery.md §PostgreSQL restart, §pg_terminate_backend

Scenarios 2 and 3: the database goes away under load, whole or one connection at a time.

While PostgreSQL is down the only acceptable answers are 2xx and 503 (the client may retry a
503; a 500 says the server is broken). Afterwards every acknowledged write must be there, once.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from battery.ledger import Ledger
from battery.load import Load, accounts, mixed
from battery.postgres import Postgres, fresh_postgres
from battery.report import Table, statuses
from harness.server import serving

# Seconds of load before the restart, of outage, and of load after PostgreSQL is back.
BEFORE, OUTAGE, AFTER = 3.0, 2.0, 5.0
RECOVERY_TARGET = 1.0  # seconds from PostgreSQL back to the first success
ROUNDS, SPACING = 5, 2.0  # pg_terminate_backend rounds, and seconds between them


async def restart(postgres: Postgres, ledger: Ledger) -> None:
    """Stop PostgreSQL, keep it down for OUTAGE seconds, start it; note what clients saw."""
    await asyncio.sleep(BEFORE)
    down = time.monotonic()
    await postgres.stop()
    await asyncio.sleep(OUTAGE)
    await postgres.start()
    back = time.monotonic()
    during = [answer for answer in ledger.answers if down <= answer.received < back]
    ledger.notes.append(
        f"PostgreSQL stopped or starting for {back - down:.1f} s; answers meanwhile: "
        + statuses(ledger.statuses(during))
    )
    await asyncio.sleep(AFTER)
    after = [answer for answer in ledger.answers if answer.received >= back]
    ledger.notes.append(f"answers after it was back: {statuses(ledger.statuses(after))}")
    first = next((answer.received for answer in after if answer.ok), None)
    if first is None:
        ledger.problems.append("no request succeeded after PostgreSQL came back")
    else:
        verdict = "within" if first - back < RECOVERY_TARGET else "OVER"
        ledger.notes.append(
            f"first success {(first - back) * 1000:.0f} ms after PostgreSQL was back"
            f" ({verdict} the {RECOVERY_TARGET:.0f} s target)"
        )


async def terminate(postgres: Postgres, ledger: Ledger) -> None:
    """ROUNDS rounds of pg_terminate_backend on every app connection, SPACING seconds apart."""
    killed = []
    for _ in range(ROUNDS):
        await asyncio.sleep(SPACING)
        killed.append(await postgres.terminate_backends())
    await asyncio.sleep(SPACING)  # and load after the last round, to see the app recover
    ledger.notes.append(
        f"{ROUNDS} rounds terminated {sum(killed)} backends ({', '.join(map(str, killed))})"
    )
    if not sum(killed):
        ledger.problems.append("pg_terminate_backend found no backend to terminate")


Fault = Callable[[Postgres, Ledger], Awaitable[None]]


async def under_load(folder: Path, ledger: Ledger, fault: Fault) -> None:
    """Clients create, complete and read while `fault` runs, and stop when it is done."""
    async with (
        fresh_postgres(folder / "postgres") as postgres,
        serving(postgres.url, folder, log=folder / "server.log") as base,
    ):
        users = await accounts(base, 2)
        done = asyncio.Event()
        # The fault's own length decides; `seconds` only bounds a fault that hangs.
        load = asyncio.create_task(mixed(base, users, ledger, Load(seconds=120), stop=done))
        try:
            await fault(postgres, ledger)
        finally:
            done.set()
            await load
        await ledger.reconcile(postgres.dsn)


async def restart_under_load(folder: Path, table: Table) -> None:
    await under_load(folder, table.ledger("PostgreSQL restart", tolerated={"503"}), restart)


async def terminate_under_load(folder: Path, table: Table) -> None:
    ledger = table.ledger(f"pg_terminate_backend x{ROUNDS}", tolerated={"503"})
    await under_load(folder, ledger, terminate)
