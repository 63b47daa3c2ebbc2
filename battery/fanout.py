"""Task: T-225
Spec: specs/operations/battery.md §Fan-out

Scenario `fanout`: one user's 20 endpoints and one 100-operation batch, 2,000 deliveries to a
receiver on loopback, while another user writes once a second and a third lists. Every
delivery must arrive exactly once (nothing else disturbs the server, so a duplicate is a bug),
and every one of the other user's too; their latency and the list p50 are printed.
"""

import statistics
from pathlib import Path

from battery.postgres import fresh_postgres
from battery.report import Table
from harness import fanout
from harness.server import serving


async def fan_out(folder: Path, table: Table) -> None:
    ledger = table.ledger(f"fan-out: {fanout.FAN_OUT} deliveries")
    async with (
        fresh_postgres(folder / "postgres") as postgres,
        serving(postgres.url, folder, log=folder / "server.log", env=fanout.ENVIRONMENT) as base,
    ):
        result = await fanout.measure(base)
    ledger.notes.append(
        f"{result.received} of {fanout.FAN_OUT} delivered in {result.seconds:.1f} s,"
        f" {result.duplicated} twice; API answers {dict(sorted(result.statuses.items()))}"
    )
    if result.others:
        ledger.notes.append(
            f"another user's delivery: p50 {statistics.median(result.others):.2f} s,"
            f" max {max(result.others):.2f} s over {len(result.others)}"
        )
    ledger.notes.append(
        f"list p50 idle {result.list_idle_ms:.1f} ms, during the fan-out"
        f" {result.list_during_ms:.1f} ms ({result.list_during_ms / result.list_idle_ms:.2f}x)"
    )
    if result.lost:
        ledger.problems.append(f"{result.lost} of the fan-out's deliveries never arrived")
    if result.duplicated:
        ledger.problems.append(f"{result.duplicated} of the fan-out's deliveries arrived twice")
    if result.others_lost:
        ledger.problems.append(f"{result.others_lost} of the other user's deliveries never arrived")
    if errors := sum(count for status, count in result.statuses.items() if status >= 500):
        ledger.problems.append(f"{errors} API answers were 5xx")
