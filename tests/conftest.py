"""Task: T-016, T-114
Spec: specs/features/plugins.md §Testing

This project's tests run on the test kit it ships to plugin authors (`app.testing`, loaded by
its `pytest11` entry point): a real PostgreSQL per run, a migrated clone per test, apps served
in-process, users with real tokens. Using it here is what keeps it from rotting.

Never SQLite, never a mocked session: every test talks to PostgreSQL over a real connection.
"""

import pytest

from app.core.plugins.plugins_file import DEFAULT_ENABLED


@pytest.fixture(scope="session")
def todo_api_plugins() -> tuple[str, ...]:
    # The built-ins, and the example third-party plugin the kernel tests enable and disable.
    return (*DEFAULT_ENABLED, "notes")
