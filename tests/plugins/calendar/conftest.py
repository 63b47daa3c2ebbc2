"""Task: T-436
Spec: specs/features/calendar.md §Testing

The recurring tests' users (a task, a recurring one, a completion), on the built-ins without
background consumers, so the statements a feed sends are counted.
"""

from tests.plugins.recurring.conftest import alice, bob, client

__all__ = ["alice", "bob", "client"]
