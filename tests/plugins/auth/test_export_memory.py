"""Task: T-396
Spec: specs/features/authentication.md §Data export

The export of a user with 100,000 tasks streams: the server process's resident memory grows by
less than 20 MB while it sends the whole document. `todo-api serve` runs in its own process, so
its RSS is the server's alone; the tasks are seeded with SQL.
"""

import asyncio
import json
import os
import sys
import threading
import time
from pathlib import Path

import httpx

from app.testing import TEST_SECRET
from app.testing.users import PASSWORD
from harness import server as harness
from harness.server import free_port

TODO_API = str(Path(sys.executable).with_name("todo-api"))
TASKS = 100_000
LIMIT = 20 * 1024 * 1024


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


async def start(database_url: str, folder: Path) -> tuple[asyncio.subprocess.Process, str]:
    """`todo-api serve` on the test's database, in a process of its own (its RSS is the
    server's alone), and its base URL once it is ready."""
    (folder / "plugins.toml").write_text('[plugins]\nenabled = ["health", "auth", "tasks"]\n')
    port = free_port()
    env = os.environ | {
        "DATABASE_URL": database_url,
        "JWT_SECRET_KEY": TEST_SECRET,
        "PLUGINS_FILE": str(folder / "plugins.toml"),
        "DATA_DIR": str(folder / "data"),
    }
    command = [TODO_API, "serve", "--no-migrate", "--port", str(port)]
    server = await harness.start(command, folder / "log", env)
    base = f"http://127.0.0.1:{port}"
    try:
        await harness.wait_ready(base, server, seconds=30)
    except SystemExit:
        server.terminate()
        raise AssertionError(
            f"todo-api serve did not start: {(folder / 'log').read_text()}"
        ) from None
    return server, base


async def test_a_100k_task_export_streams_in_flat_memory(database_url, db, tmp_path):
    server, base = await start(database_url, tmp_path)
    try:
        async with httpx.AsyncClient(base_url=base, timeout=120) as http:
            credentials = {"email": "ada@example.com", "password": PASSWORD}
            assert (await http.post("/api/v1/auth/register", json=credentials)).status_code == 201
            tokens = (await http.post("/api/v1/auth/login", json=credentials)).json()
            headers = {"Authorization": f"Bearer {tokens['access_token']}"}
            first = await http.post("/api/v1/tasks", json={"title": "First"}, headers=headers)
            assert first.status_code == 201, first.text
            # Warm, before the seeding: the statements compiled, the pool's connection open, the
            # code paths run, for a one-task export.
            small = await http.get("/api/v1/auth/me/export", headers=headers)
            assert small.status_code == 200 and len(small.json()["tasks"]) == 1
            # Seeded without the change log's triggers: the rows are what matters here.
            await db.execute("SET session_replication_role = replica")
            await db.execute(
                "INSERT INTO tasks (id, user_id, list_id, title, description, position)"
                " SELECT gen_random_uuid()::text, user_id, list_id, 'Task number ' || n,"
                " repeat('A task description of some length. ', 4),"
                " 'b' || lpad(n::text, 6, '0')"
                " FROM tasks, generate_series(1, $2::int - 1) AS n WHERE id = $1",
                first.json()["id"],
                TASKS,
            )
            await db.execute("ANALYZE tasks")
            baseline = rss(server.pid)
            peak = baseline
            done = threading.Event()

            def sample() -> None:
                nonlocal peak
                while not done.is_set():
                    peak = max(peak, rss(server.pid))
                    time.sleep(0.02)

            sampler = threading.Thread(target=sample)
            sampler.start()
            body = bytearray()
            started = time.monotonic()
            try:
                async with http.stream("GET", "/api/v1/auth/me/export", headers=headers) as answer:
                    assert answer.status_code == 200
                    async for chunk in answer.aiter_bytes():
                        body += chunk
            finally:
                seconds = time.monotonic() - started
                done.set()
                sampler.join()
        document = json.loads(body)
        assert len(document["tasks"]) == TASKS
        print(
            f"export {len(body) / 2**20:.1f} MB in {seconds:.1f} s; server RSS {baseline / 2**20:.1f} MB, "
            f"peak {peak / 2**20:.1f} MB, growth {(peak - baseline) / 2**20:.1f} MB"
        )
        assert len(body) > 2 * LIMIT  # the document is far larger than the growth allowed
        assert peak - baseline < LIMIT
    finally:
        server.terminate()
        await server.wait()
