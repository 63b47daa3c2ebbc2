"""Task: T-030
Spec: specs/api/rest-endpoints.md §Tasks

The tasks plugin (skeleton; the task API arrives with issue 4).
"""

from collections.abc import Sequence

from app.core import hookimpl


@hookimpl
def requires() -> Sequence[str]:
    return ["auth"]
