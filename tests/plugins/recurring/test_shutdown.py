"""Task: T-212
Spec: specs/features/recurring.md §Bounded work

SIGTERM stops a real `todo-api serve` while it validates the worst rules known, eight requests
at a time: each search ends within its budget, on the event loop, and no worker thread keeps
the process alive (before, `FREQ=MINUTELY;BYSETPOS=2` ran for minutes in one, and the server
did not stop).
"""

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

import httpx
import pytest

from app.testing import TEST_SECRET
from harness.server import HOST, account, free_port, wait_ready

TASKS = "/api/v1/tasks"
# The two, and the costliest that reach the budget (bench/rules.py has more).
RULES = [
    "FREQ=MINUTELY;BYSETPOS=2",
    "FREQ=HOURLY;BYSETPOS=2",
    "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
    "FREQ=MINUTELY;BYHOUR=23;BYMONTH=2;BYMONTHDAY=30",
    "FREQ=WEEKLY;BYMONTH=2;BYDAY=MO;BYHOUR=9;BYSETPOS=2",
]
CLIENTS = 8
ANSWERS = 24  # answered before SIGTERM: the server is busy with these rules when it comes
# A bound on liveness, not a speed: uvicorn sets no graceful timeout of its own, so this is
# how long the test waits before it calls the server stuck.
STOPPED_WITHIN = 20.0


async def test_sigterm_stops_a_server_validating_the_worst_rules(database_url: str, tmp_path: Path):
    port = free_port()
    base = f"http://{HOST}:{port}"
    env = os.environ | {
        "DATABASE_URL": database_url,
        "JWT_SECRET_KEY": TEST_SECRET,
        "LOG_LEVEL": "WARNING",
        "DATA_DIR": str(tmp_path / "data"),
    }
    todo_api = Path(sys.executable).with_name("todo-api")
    with (tmp_path / "log").open("w") as log:
        server = await asyncio.create_subprocess_exec(
            todo_api, "serve", "--host", HOST, "--port", str(port), env=env, stdout=log, stderr=log
        )
    answers: list[int] = []
    enough = asyncio.Event()
    try:
        await wait_ready(base, server)
        async with httpx.AsyncClient(base_url=base, timeout=None) as client:
            user = await account(client, "rules@example.com")
            created = await client.post(
                TASKS, json={"title": "t", "due_at": "2026-03-01T08:00:00Z"}, headers=user.headers
            )
            url = f"{TASKS}/{created.json()['id']}/recurrence"

            async def validate(first: int) -> None:
                with contextlib.suppress(httpx.TransportError):  # the server went away
                    for n in range(first, 10**6):
                        body = {"rule": RULES[n % len(RULES)], "timezone": "Europe/Berlin"}
                        answer = await client.put(url, json=body, headers=user.headers)
                        answers.append(answer.status_code)
                        if len(answers) >= ANSWERS:
                            enough.set()

            clients = [asyncio.create_task(validate(n)) for n in range(CLIENTS)]
            # Before this change the first answers took minutes: signal anyway after a while.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(enough.wait(), 30)
            server.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(server.wait(), STOPPED_WITHIN)
            except TimeoutError:
                pytest.fail(f"the server had not stopped {STOPPED_WITHIN:.0f} s after SIGTERM")
            finally:
                for running in clients:
                    running.cancel()
                await asyncio.gather(*clients, return_exceptions=True)
        assert len(answers) >= ANSWERS and set(answers) == {422}, answers
    finally:
        if server.returncode is None:
            server.kill()
            await server.wait()
