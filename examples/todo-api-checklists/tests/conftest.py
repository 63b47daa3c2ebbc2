"""Task: T-124
Spec: specs/features/plugins.md §Testing

The test kit's fixtures (`client`, `app`, `make_user`, `db`, …) come with todo-api; this file
says which plugins the app under test enables and its databases are migrated for.
"""

import pytest


@pytest.fixture(scope="session")
def todo_api_plugins() -> tuple[str, ...]:
    return ("health", "auth", "changes", "jobs", "tasks", "checklists")
