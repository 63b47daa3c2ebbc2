"""Task: T-330
Spec: specs/features/plugins.md §Plugin APIs; specs/features/sharing.md §Members and invitations

What the auth plugin offers the plugins that require it: the `users` table, read-only, so a
plugin can show who a user is (their `name` and `email`) in the same statement as its own rows.
"""

from app.plugins.auth.models import User

__all__ = ["User"]
