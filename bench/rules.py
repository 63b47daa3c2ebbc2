"""Task: T-211
Spec: specs/features/recurring.md §Bounded work

The CPU time of the worst recurrence rules known, through both paths that expand a rule:
validation (`PUT /recurrence`: the rule parsed, its shape checked, its next occurrence found)
and a successor (completing an occurrence, or `GET /recurrence`: the stored rule loaded and its
next occurrence found, the series ending when that costs more than the budget). Stored, a rule
skips the shape refusals, as a rule accepted before them would: the budget alone bounds it.

CPU time (`time.process_time`) of this process, the worst of RUNS runs: what one request
costs the server's event loop. Run alone with `python -m bench.rules`.
"""

import time
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from app.plugins.recurring import rules

RUNS = 5
ZONE = ZoneInfo("Europe/Berlin")
DUE = datetime(2026, 3, 1, 8, tzinfo=UTC)
HORIZON = 100  # the default horizon_years
EVERY_HOUR = ",".join(map(str, range(24)))
EVERY_MINUTE = ",".join(map(str, range(60)))
# Those the issue found (minutes of CPU), then the costliest of each kind: a filter that never
# matches at each FREQ (every period examined until the budget is spent), BYSETPOS over the
# largest sets, the most date-times in one set, and MINUTELY's step search for the hour.
WORST = [
    "FREQ=MINUTELY;BYSETPOS=2",
    "FREQ=HOURLY;BYSETPOS=2",
    "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
    "FREQ=DAILY;BYSETPOS=-1;BYMONTH=2;BYMONTHDAY=30",
    "FREQ=HOURLY;BYHOUR=23;BYMONTH=2;BYMONTHDAY=30",
    "FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=30",
    "FREQ=MINUTELY;BYHOUR=23;BYMONTH=2;BYMONTHDAY=30",
    "FREQ=MINUTELY;BYHOUR=23;BYMINUTE=59;BYMONTH=2;BYMONTHDAY=30",
    "FREQ=MINUTELY;INTERVAL=7;BYHOUR=3;BYMINUTE=0;BYMONTH=2;BYMONTHDAY=30",
    "FREQ=WEEKLY;BYMONTH=2;BYDAY=MO;BYHOUR=9;BYSETPOS=2",
    "FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30;BYSETPOS=" + ",".join(map(str, range(1, 32))),
    "FREQ=MONTHLY;BYDAY=1MO,2TU,3WE,-1FR;BYMONTH=2;BYMONTHDAY=30",
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30;BYSETPOS=" + ",".join(map(str, range(1, 90))),
    "FREQ=YEARLY;BYWEEKNO=" + ",".join(map(str, range(1, 54))) + ";BYMONTH=2;BYMONTHDAY=30",
    f"FREQ=YEARLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR={EVERY_HOUR};BYMINUTE=0,30",
    f"FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR={EVERY_HOUR};BYMINUTE={EVERY_MINUTE}",
    f"FREQ=YEARLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR={EVERY_HOUR};BYMINUTE={EVERY_MINUTE}",
]


def validation(text: str) -> str:
    """What `PUT /recurrence` does with the rule."""
    try:
        found = rules.following(rules.parse(text), ZONE, DUE, HORIZON)
    except rules.RuleError:
        return "422"
    return "422" if found is None else "200"


def successor(text: str) -> str:
    """What completing an occurrence with this stored rule does."""
    found = rules.next_due(rules.load(text), ZONE, DUE, HORIZON)
    return "ends" if found is None else "next"


def cpu_ms(path: Callable[[str], str], text: str) -> tuple[float, str]:
    """The worst CPU time of RUNS runs of `path` on `text`, in ms, and what it answered."""
    worst, outcome = 0.0, ""
    for _ in range(RUNS):
        start = time.process_time()
        outcome = path(text)
        worst = max(worst, time.process_time() - start)
    return worst * 1000, outcome


def worst_rules() -> None:
    """Print each rule's CPU time through both paths, and the worst."""
    print(f"\nrecurrence rules: CPU time, worst of {RUNS} (budget {rules.BUDGET:,} units)")
    print(f"{'rule':<64} {'validate ms':>12} {'successor ms':>13}")
    worst = 0.0
    for text in WORST:
        validated, answer = cpu_ms(validation, text)
        followed, ending = cpu_ms(successor, text)
        worst = max(worst, validated, followed)
        shown = text if len(text) <= 60 else text[:57] + "..."
        print(f"{shown:<64} {validated:>7.1f} {answer} {followed:>8.1f} {ending}")
    print(f"worst rule: {worst:.1f} ms of CPU (the spec promises at most 50 ms)")


if __name__ == "__main__":
    worst_rules()
