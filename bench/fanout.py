"""Task: T-225
Spec: specs/features/webhooks.md §Fairness; specs/operations/battery.md §Fan-out

Fan-out fairness: one user's 2,000 webhook deliveries (20 endpoints, one 100-operation batch)
against another user's single deliveries and a third user's list. Targets: the other user's
delivery p50 at most 2 s, the list p50 during the fan-out at most 2x idle.

`python -m bench.fanout` runs it alone on a fresh embedded PostgreSQL; `python -m bench` runs
it last.
"""

import asyncio
import statistics
import tempfile
from pathlib import Path

from app.cli.embedded import start as start_embedded
from harness import fanout
from harness.server import serving

DELIVERY_TARGET_SECONDS = 2.0
LIST_TARGET_RATIO = 2.0


async def fairness(folder: Path) -> None:
    """Start a server allowed to reach loopback on a database of its own, and report."""
    url = start_embedded(folder / "fanout-postgres")
    async with serving(
        url, folder, log=folder / "fanout-server.log", env=fanout.ENVIRONMENT
    ) as base:
        result = await fanout.measure(base)
    others = statistics.median(result.others) if result.others else float("inf")
    ratio = result.list_during_ms / result.list_idle_ms
    print(
        f"\nfan-out fairness: {result.received} of {fanout.FAN_OUT} deliveries in"
        f" {result.seconds:.1f} s ({result.duplicated} twice); another user's delivery p50"
        f" {others:.2f} s over {len(result.others)} ({'within' if others <= DELIVERY_TARGET_SECONDS else 'OVER'}"
        f" the {DELIVERY_TARGET_SECONDS:g} s target); list p50 idle {result.list_idle_ms:.1f} ms,"
        f" during {result.list_during_ms:.1f} ms ({ratio:.2f}x;"
        f" {'within' if ratio <= LIST_TARGET_RATIO else 'OVER'} the {LIST_TARGET_RATIO:g}x target)"
    )


if __name__ == "__main__":
    asyncio.run(fairness(Path(tempfile.mkdtemp(prefix="todo-bench-fanout-"))))
