"""Task: T-081
Spec: specs/operations/battery.md §Running

`python -m battery`: every scenario against real servers, one table, and a verdict.

Exit status 1 when any row failed: a lost or duplicated write, an answer outside the scenario's
tolerated ones (any 5xx but 503, a transport error), or a scenario that could not run.
"""

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path

from battery.fanout import fan_out
from battery.nginx import nginx_in_front
from battery.outages import restart_under_load, terminate_under_load
from battery.pgbouncer import through_pgbouncer
from battery.poison import poison_change
from battery.races import two_instances
from battery.report import Table

Scenario = Callable[[Path, Table], Awaitable[None]]

SCENARIOS: dict[str, Scenario] = {
    "pgbouncer": through_pgbouncer,
    "restart": restart_under_load,
    "terminate": terminate_under_load,
    "instances": two_instances,
    "poison": poison_change,
    "nginx": nginx_in_front,
    "fanout": fan_out,
}


async def run(names: list[str]) -> Table:
    table = Table()
    root = Path(tempfile.mkdtemp(prefix="todo-battery-"))
    for name in names:
        print(f"{name}: running", flush=True)
        folder = root / name
        folder.mkdir()
        before = len(table.rows)
        try:
            await SCENARIOS[name](folder, table)
        except (Exception, SystemExit) as exc:  # the harness raises SystemExit on start-up
            traceback.print_exc()
            problem = f"did not finish: {type(exc).__name__}: {exc}".splitlines()[0]
            rows = table.rows[before:] or [table.ledger(name)]
            rows[-1].problems.append(problem)
    if table.passed:
        shutil.rmtree(root, ignore_errors=True)
    else:
        print(f"server logs and data kept in {root}", flush=True)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m battery", description="Fault-injection runs against real servers."
    )
    parser.add_argument(
        "scenarios",
        nargs="*",
        metavar="SCENARIO",
        help=f"default: all, in order: {', '.join(SCENARIOS)}",
    )
    names = parser.parse_args().scenarios or list(SCENARIOS)
    if unknown := sorted(set(names) - set(SCENARIOS)):
        parser.error(f"unknown scenario {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")
    started = time.monotonic()
    table = asyncio.run(run(names))
    print(table.render())
    print(
        f"battery: {'passed' if table.passed else 'FAILED'} in {time.monotonic() - started:.0f} s"
    )
    sys.exit(0 if table.passed else 1)


if __name__ == "__main__":
    main()
