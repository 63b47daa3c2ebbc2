"""Task: T-015, T-240
Spec: specs/features/plugins.md §Command line

The `todo-api` command line: outside the request path.
"""

from app.cli.commands import cli

__all__ = ["cli"]
