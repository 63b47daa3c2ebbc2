"""Task: T-168
Spec: specs/features/jobs.md §Testing

A worker process for the tests that kill one: `python -m tests.plugins.jobs.worker_process URL
FOLDER`. It runs exactly what `todo-api worker` runs, with the sample plugin registered.
"""

import sys
from pathlib import Path

from app.core.app import create_app
from app.core.plugins.loading import load
from app.core.plugins.plugins_file import PluginsFile
from app.plugins.jobs.command import run_worker
from app.testing.database import settings_for
from tests.plugins.jobs import sample

ENABLED = ("health", "auth", "jobs")
# A short lease, so the test does not wait long for a killed worker's job to be taken again.
TABLES = {"jobs": {"lease_seconds": 1, "poll_seconds": 0.2}}

if __name__ == "__main__":
    url, folder = sys.argv[1], Path(sys.argv[2])
    settings = settings_for(url, folder)
    context = load(settings, PluginsFile(enabled=ENABLED, tables=TABLES), {"sample": sample})
    run_worker(create_app(settings, context))
