"""Task: T-168
Spec: specs/features/jobs.md §The worker

`todo-api worker` as operators run it: it migrates, runs the worker without an HTTP server, and
stops cleanly on SIGTERM.
"""

import asyncio
import os
import signal
from pathlib import Path

from app.testing.database import TEST_SECRET
from tests.core.command_line import SETTINGS, TODO_API


async def test_todo_api_worker_runs_until_sigterm(empty_database_url: str, tmp_path: Path):
    (tmp_path / "plugins.toml").write_text('[plugins]\nenabled = ["health", "auth", "jobs"]\n')
    env = {name: value for name, value in os.environ.items() if name not in SETTINGS} | {
        "PLUGINS_FILE": str(tmp_path / "plugins.toml"),
        "DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": empty_database_url,
        "JWT_SECRET_KEY": TEST_SECRET,
    }
    process = await asyncio.create_subprocess_exec(
        TODO_API, "worker", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(60):
            while not any("job worker:" in line for line in lines):
                line = (await process.stderr.readline()).decode()
                assert line, "".join(lines)
                lines.append(line)
    finally:
        process.send_signal(signal.SIGTERM)
    _, rest = await asyncio.wait_for(process.communicate(), 30)
    output = "".join(lines) + rest.decode()
    assert process.returncode == 0, output
    assert "migrated jobs: base -> jobs_0001" in output
    assert "job worker stopping" in output
    assert "Traceback" not in output
