"""Task: T-209
Spec: specs/operations/battery.md §Poison

Scenario `poison`: a change the built-in `webhooks` consumer cannot handle, against a real
server. A hand-written data fix leaves a task whose tags hold a NULL (`array_append(tags,
NULL)`: nothing in the schema forbids it, and no task the API shows can hold it), so the tasks
serializer the consumer renders payloads with rejects that change on every try. Meanwhile two
other users write tasks and a reminder; their webhooks (to a loopback receiver started here)
must still arrive within 10 s, and `todo-api set-aside list` must name the poison change.
"""

import asyncio
import contextlib
import json
import os
import secrets
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

from battery.ledger import Ledger
from battery.load import TIMEOUT, send
from battery.postgres import fresh_postgres
from battery.report import Table
from harness.server import HOST, account, serving

WITHIN_SECONDS = 10.0
REMINDER_DELAY_SECONDS = 2.0


class Receiver:
    """A loopback webhook receiver: when each event (type, id) arrived; answers 204."""

    def __init__(self) -> None:
        self.arrived: dict[tuple[str, str], float] = {}
        self.events: dict[tuple[str, str], asyncio.Event] = {}
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, HOST, 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://{HOST}:{port}/hook"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                (
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            body = json.loads(await reader.readexactly(length)) if length else {}
            event = body.get("data", {})
            # A task event by the task's id; a reminder.fired by its task's.
            key = (body.get("type", ""), event.get("task_id") or event.get("id", ""))
            self.arrived.setdefault(key, time.monotonic())
            self.events.setdefault(key, asyncio.Event()).set()
            writer.write(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
            await writer.drain()
        except (asyncio.IncompleteReadError, ValueError, ConnectionError):
            pass
        finally:
            writer.close()

    def close(self) -> None:
        if self.server is not None:
            self.server.close()


async def set_aside_list(database_url: str, folder: Path) -> str:
    """`todo-api set-aside list`, as an operator runs it."""
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("todo-api")),
        "set-aside",
        "list",
        env=os.environ | {"DATABASE_URL": database_url, "DATA_DIR": str(folder)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"todo-api set-aside list failed: {err.decode().strip()[-200:]}")
    return out.decode()


async def arrival(
    receiver: Receiver, key: tuple[str, str], since: float, ledger: Ledger, what: str
) -> None:
    remaining = since + WITHIN_SECONDS - time.monotonic()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(receiver.events.setdefault(key, asyncio.Event()).wait(), remaining)
    if key in receiver.arrived:
        ledger.notes.append(f"{what} arrived after {receiver.arrived[key] - since:.1f} s")
    else:
        ledger.problems.append(f"{what} did not arrive within {WITHIN_SECONDS:g} s")


async def poison_change(folder: Path, table: Table) -> None:
    ledger = table.ledger("poison: a change the webhooks consumer cannot handle")
    receiver = Receiver()
    url = await receiver.start()
    env = {"OUTBOUND_ALLOW_HOSTS": HOST}
    try:
        async with (
            fresh_postgres(folder / "postgres") as postgres,
            serving(postgres.url, folder, log=folder / "server.log", env=env) as base,
            httpx.AsyncClient(base_url=base, timeout=TIMEOUT) as client,
        ):
            poisoner, bob, carol = [
                await account(client, f"poison-{name}-{secrets.token_hex(4)}@example.com")
                for name in ("alice", "bob", "carol")
            ]
            for user in (bob, carol):
                hook = await send(
                    ledger, client.post("/api/v1/webhooks", json={"url": url}, headers=user.headers)
                )
                assert hook is not None and hook.status_code == 201, hook and hook.text
            task = await send(
                ledger,
                client.post(
                    "/api/v1/tasks", json={"title": "hand-fixed"}, headers=poisoner.headers
                ),
            )
            assert task is not None and task.status_code == 201
            poison_id = task.json()["id"]
            connection = await asyncpg.connect(postgres.dsn)
            try:
                await connection.execute(
                    "UPDATE tasks SET tags = array_append(tags, NULL) WHERE id = $1", poison_id
                )
            finally:
                await connection.close()

            # Other users write right behind it: the same batch of the consumer, and later.
            written = time.monotonic()
            created = {}
            for user in (bob, carol):
                response = await send(
                    ledger,
                    client.post("/api/v1/tasks", json={"title": "other"}, headers=user.headers),
                )
                assert response is not None and response.status_code == 201
                created[user.id] = response.json()["id"]
            at = datetime.now(UTC) + timedelta(seconds=REMINDER_DELAY_SECONDS)
            reminder = await send(
                ledger,
                client.post(
                    f"/api/v1/tasks/{created[bob.id]}/reminders",
                    json={"at": at.isoformat()},
                    headers=bob.headers,
                ),
            )
            assert reminder is not None and reminder.status_code == 201, reminder and reminder.text
            due = written + REMINDER_DELAY_SECONDS
            await asyncio.gather(
                arrival(
                    receiver,
                    ("task.created", created[bob.id]),
                    written,
                    ledger,
                    "bob's task.created",
                ),
                arrival(
                    receiver,
                    ("task.created", created[carol.id]),
                    written,
                    ledger,
                    "carol's task.created",
                ),
                arrival(
                    receiver,
                    ("reminder.fired", created[bob.id]),
                    due,
                    ledger,
                    "bob's reminder.fired (after its due time)",
                ),
            )

            # The poison change is set aside and listed by the command.
            started, listed = time.monotonic(), ""
            while time.monotonic() - started < 30:
                listed = await set_aside_list(postgres.url, folder)
                if f"webhooks  tasks {poison_id} update" in listed:
                    break
                await asyncio.sleep(1)
            line = next((row for row in listed.splitlines() if poison_id in row), None)
            if line is None:
                ledger.problems.append(f"the poison change was not listed: {listed.strip()!r}")
            else:
                ledger.notes.append(f"todo-api set-aside list: {line}")
            ready = await send(ledger, client.get("/api/v1/health/ready"))
            if ready is not None and ready.status_code == 200:
                ledger.notes.append(f"readiness 200, counts {ready.json().get('counts')}")
            elif ready is not None:
                ledger.problems.append(f"readiness answered {ready.status_code}")
            feed = await send(ledger, client.get("/api/v1/changes", headers=poisoner.headers))
            if feed is not None and feed.status_code == 200:
                problems = [c for c in feed.json()["changes"] if c.get("problem")]
                ledger.notes.append(
                    f"the poisoner's feed: 200, {len(problems)} change(s) with a problem"
                )
    finally:
        receiver.close()
