"""Task: T-081
Spec: specs/operations/battery.md §Running

The battery's table: one row per ledger, notes and problems underneath, and the verdict.
"""

from collections import Counter
from collections.abc import Iterable

from battery.ledger import Ledger

HEADERS = ("scenario", "requests", "statuses", "lost", "duplicated", "failures", "verdict")


def statuses(counts: Counter[str]) -> str:
    """`200:41 201:20 503:7`, status codes first, then transport errors by name."""
    ordered = sorted(counts.items(), key=lambda item: (not item[0].isdigit(), item[0]))
    return " ".join(f"{outcome}:{count}" for outcome, count in ordered) or "-"


class Table:
    def __init__(self) -> None:
        self.rows: list[Ledger] = []

    def ledger(self, scenario: str, tolerated: Iterable[str] = ()) -> Ledger:
        """A new row; `tolerated` lists the answers besides 2xx that are not failures."""
        row = Ledger(scenario, tolerated=frozenset(tolerated))
        self.rows.append(row)
        return row

    @property
    def passed(self) -> bool:
        return bool(self.rows) and all(row.passed for row in self.rows)

    def render(self) -> str:
        cells = [
            (
                row.scenario,
                str(len(row.answers)),
                statuses(row.statuses()),
                str(row.lost),
                str(row.duplicated),
                str(row.failures),
                "pass" if row.passed else "FAIL",
            )
            for row in self.rows
        ]
        widths = [max(len(line[i]) for line in [HEADERS, *cells]) for i in range(len(HEADERS))]
        lines = [
            "  ".join(
                cell.ljust(width) if i in (0, 2, 6) else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(line, widths, strict=True))
            ).rstrip()
            for line in [HEADERS, *cells]
        ]
        for row in self.rows:
            lines += [f"- {row.scenario}: {note}" for note in row.notes]
            lines += [f"- {row.scenario}: FAIL: {problem}" for problem in row.problems]
        return "\n".join(lines)
