"""Task: T-065
Spec: specs/features/plugins.md §Start-up errors

Running `todo-api` as operators do: a subprocess, in a folder of its own, with only the
environment a test gives it (none of the developer's own settings or `.env`).
"""

import os
import subprocess
import sys
from pathlib import Path

from app.core.settings import Settings

TODO_API = str(Path(sys.executable).with_name("todo-api"))
SETTINGS = {name.upper() for name in Settings.model_fields}


def todo_api(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {name: value for name, value in os.environ.items() if name not in SETTINGS}
    return subprocess.run(
        [TODO_API, *args], capture_output=True, text=True, cwd=cwd, env=clean | env, timeout=120
    )


def config_error(result: subprocess.CompletedProcess[str]) -> str:
    """The one `error:` line a configuration mistake prints (exit 2, no traceback)."""
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]
