"""Task: T-081
Spec: specs/operations/battery.md §Lost and duplicated writes

The battery's bookkeeping, checked without faults: which answers fail a row, and how the
acknowledged writes are compared with what PostgreSQL holds.
"""

import asyncpg
import httpx

from battery.report import Table, statuses
from harness.server import asyncpg_dsn

TASK = """
INSERT INTO tasks (id, user_id, title, completed, completed_at, priority, tags,
                   created_at, updated_at, version)
VALUES ($1, 'u', $2, $3, CASE WHEN $3 THEN now() END, 'none', '{}', now(), now(), 1)
"""


def answer(status: int) -> httpx.Response:
    return httpx.Response(status, request=httpx.Request("GET", "http://127.0.0.1/"))


def test_only_2xx_and_the_tolerated_answers_pass():
    table = Table()
    outage = table.ledger("outage", tolerated={"503"})
    for outcome in (answer(200), answer(201), answer(503)):
        outage.record(outcome)
    assert outage.passed

    outage.record(answer(500))
    outage.record(httpx.ReadError("connection reset"))
    assert (outage.failures, outage.passed) == (2, False)
    assert statuses(outage.statuses()) == "200:1 201:1 500:1 503:1 ReadError:1"
    assert "FAIL" in table.render()


def test_a_table_without_rows_does_not_pass():
    assert not Table().passed


async def test_reconcile_counts_lost_duplicated_and_unacknowledged_writes(database_url: str):
    dsn = asyncpg_dsn(database_url)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("INSERT INTO users (id, issuer, email) VALUES ('u', 't', 'u@x')")
        await connection.executemany(
            TASK,
            [
                ("kept", "t-kept", True),  # acknowledged create and complete, both stored
                ("undone", "t-undone", False),  # acknowledged complete that did not stick
                ("twice-1", "t-twice", False),  # one title stored twice
                ("twice-2", "t-twice", False),
                ("silent", "t-silent", False),  # answered with an error, stored anyway
                ("other", "not-ours", False),  # a title this ledger never sent
            ],
        )
    finally:
        await connection.close()

    ledger = Table().ledger("reconcile")
    ledger.titles |= {"t-kept", "t-undone", "t-twice", "t-silent", "t-gone"}
    ledger.created |= {
        "kept": "t-kept",
        "undone": "t-undone",
        "twice-1": "t-twice",
        "gone": "t-gone",  # acknowledged, never stored
    }
    ledger.completed |= {"kept", "undone", "gone"}  # a lost task's completion is not counted
    await ledger.reconcile(dsn)

    assert (ledger.stored, ledger.lost, ledger.duplicated) == (5, 2, 1)
    assert ledger.notes == ["2 creates answered with an error were stored"]
    assert not ledger.passed
