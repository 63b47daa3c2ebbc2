"""Task: T-227
Spec: specs/api/rest-endpoints.md §Speed; specs/database/schema.md §tasks plugin

Big batches: 100 creates with every field at its maximum (a 200-character title, a 1,000-character
description, 20 tags of 50) in one `POST /tasks/batch`, beside 100 small ones, and what the search
index (`ix_tasks_search`) costs a row.

Two kinds of maximum-size text: words (what people write: the trigrams repeat between rows) and
random letters and digits (the worst case for a trigram index: about 1,150 distinct trigrams a
row, few shared). The index's cost a row is measured in the database: the same 100 rows inserted
with and without the index, in transactions rolled back.

`python -m bench.batchsize` runs it alone on a fresh embedded database; `python -m bench` runs it
after its other scenarios.
"""

import asyncio
import os
import random
import secrets
import statistics
import string
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson

from app.cli.embedded import start as start_embedded
from harness.server import account, asyncpg_dsn, free_port, wait_ready

TASKS = "/api/v1/tasks"
COUNT = 100  # the batch's maximum
RUNS = 5
TITLE, DESCRIPTION, TAG, TAGS = 200, 1000, 50, 20
PROSE = (
    "buy milk call the plumber renew passport pay rent book flights to lisbon fix the bike"
    " water plants write the quarterly report review budget with anna pick up kids from school"
    " dentist appointment on tuesday prepare slides for the board meeting send invoice 2031"
    " clean garage return library books order birthday present for grandma walk the dog"
)
WORDS = PROSE.split()
LETTERS = string.ascii_letters + string.digits + " "


def words(length: int) -> str:
    text = ""
    while len(text) < length:
        text = f"{text} {random.choice(WORDS)}".lstrip()
    return text[:length].strip().ljust(length, "x")


def letters(length: int) -> str:
    text = "".join(random.choice(LETTERS) for _ in range(length))
    return f"x{text[1:-1]}x"  # no space at either end: a title and tags are trimmed


def maximum_task(text: Any) -> dict[str, Any]:
    tags = {f"{n:02d}{text(TAG - 2)}" for n in range(TAGS)}  # distinct by their prefix
    return {"title": text(TITLE), "description": text(DESCRIPTION), "tags": sorted(tags)}


def batch(tasks: list[dict[str, Any]]) -> dict[str, Any]:
    return {"operations": [{"op": "create", "task": task} for task in tasks]}


async def timed_batch(client: httpx.AsyncClient, auth: dict[str, str], body: dict) -> float:
    started = time.perf_counter()
    response = await client.post(f"{TASKS}/batch", json=body, headers=auth)
    elapsed = time.perf_counter() - started
    results = response.json().get("results") if response.status_code == 200 else None
    if not results or any(result["status"] != 201 for result in results):
        raise SystemExit(f"the batch failed: {response.status_code} {response.text[:300]}")
    return elapsed


INSERT = """
INSERT INTO tasks (id, user_id, title, description, tags)
SELECT gen_random_uuid()::text, $1, t.title, t.description, t.tags
FROM jsonb_to_recordset($2::jsonb) AS t(title text, description text, tags text[])
"""


async def index_cost(dsn: str, user_id: str, tasks: list[dict[str, Any]]) -> float:
    """Seconds the search index adds to inserting `tasks`, a row: the same insert with and
    without it, each rolled back (the median of RUNS pairs)."""
    rows = orjson.dumps(tasks).decode()
    connection = await asyncpg.connect(dsn)
    differences = []
    try:
        for _ in range(RUNS):
            durations = []
            for drop in (False, True):
                transaction = connection.transaction()
                await transaction.start()
                if drop:  # inside the transaction: rolled back with it
                    await connection.execute("DROP INDEX ix_tasks_search")
                started = time.perf_counter()
                await connection.execute(INSERT, user_id, rows)
                durations.append(time.perf_counter() - started)
                await transaction.rollback()
            differences.append((durations[0] - durations[1]) / len(tasks))
    finally:
        await connection.close()
    return statistics.median(differences)


async def big_batches(base: str, dsn: str, auth: dict[str, str], user_id: str) -> None:
    """Print 100 small and 100 maximum-size creates in one batch, and the index's cost a row."""
    small = batch([{"title": "Small task"}] * COUNT)
    kinds = {"words": words, "random letters": letters}
    print(f"\nbig batches: {COUNT} creates in one POST /tasks/batch, median of {RUNS} runs")
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        await timed_batch(client, auth, small)  # warm: the connection, prepared statements
        runs = [await timed_batch(client, auth, small) for _ in range(RUNS)]
        print(f"{'small (a 10-character title)':<44} {statistics.median(runs) * 1000:>7.0f} ms")
        for name, text in kinds.items():
            runs = []
            for _ in range(RUNS):
                body = batch([maximum_task(text) for _ in range(COUNT)])
                runs.append(await timed_batch(client, auth, body))
            label = f"every field at its maximum, {name}"
            print(
                f"{label:<44} {statistics.median(runs) * 1000:>7.0f} ms"
                f" (max {max(runs) * 1000:.0f}; target: 500)"
            )
    for name, text in kinds.items():
        cost = await index_cost(dsn, user_id, [maximum_task(text) for _ in range(COUNT)])
        print(f"search index, a maximum-size row of {name}: {cost * 1000:.2f} ms")


async def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="todo-bench-"))
    url = start_embedded(folder / "postgres")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = os.environ | {
        "DATABASE_URL": url,
        "JWT_SECRET_KEY": secrets.token_urlsafe(48),
        "LOG_LEVEL": "WARNING",
        "DATA_DIR": str(folder),
    }
    todo_api = Path(sys.executable).with_name("todo-api")
    server = await asyncio.create_subprocess_exec(todo_api, "serve", "--port", str(port), env=env)
    try:
        await wait_ready(base, server)
        async with httpx.AsyncClient(base_url=base) as client:
            user = await account(client, "batch@example.com")
        await big_batches(base, asyncpg_dsn(url), user.headers, user.id)
    finally:
        server.terminate()
        await server.wait()


if __name__ == "__main__":
    asyncio.run(main())
