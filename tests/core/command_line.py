"""Task: T-065
Spec: specs/features/plugins.md §Start-up errors

Running `todo-api` as operators do: a subprocess, in a folder of its own, with only the
environment a test gives it (none of the developer's own settings or `.env`).
"""

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from app.core.settings import Settings, environment_name
from app.plugins.auth.settings import AuthSettings
from app.plugins.mail.settings import MailSettings
from app.plugins.webhooks.settings import WebhooksSettings
from app.testing.database import TEST_SECRET

TODO_API = str(Path(sys.executable).with_name("todo-api"))
# The variables the kernel and the built-in plugins read: none of the developer's leak in.
SETTINGS = {
    environment_name(model, name)
    for model in (Settings, AuthSettings, WebhooksSettings, MailSettings)
    for name in model.model_fields
}


def todo_api(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {name: value for name, value in os.environ.items() if name not in SETTINGS}
    return subprocess.run(
        [TODO_API, *args], capture_output=True, text=True, cwd=cwd, env=clean | env, timeout=120
    )


def operate(database_url: str, folder: Path, enabled: Sequence[str], *args: str) -> str:
    """`todo-api ARGS` as an operator runs it on `database_url` with `enabled`; its output."""
    (folder / "plugins.toml").write_text(
        f"[plugins]\nenabled = {list(enabled)!r}\n".replace("'", '"')
    )
    done = todo_api(
        *args,
        cwd=folder,
        PLUGINS_FILE=str(folder / "plugins.toml"),
        DATA_DIR=str(folder / "data"),
        DATABASE_URL=database_url,
        JWT_SECRET_KEY=TEST_SECRET,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def environment(tmp_path: Path) -> dict[str, str]:
    """A valid configuration (with a plugins file) whose database is never reached."""
    (tmp_path / "plugins.toml").write_text(
        '[plugins]\nenabled = ["health", "auth", "changes", "jobs", "tasks"]\n'
    )
    return {
        "PLUGINS_FILE": str(tmp_path / "plugins.toml"),
        "DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": "postgresql://u:p@127.0.0.1:1/x",
        "JWT_SECRET_KEY": "a-test-secret-that-is-long-enough-for-hs256",
    }


def config_error(result: subprocess.CompletedProcess[str]) -> str:
    """The one `error:` line a configuration mistake prints (exit 2, no traceback)."""
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]
