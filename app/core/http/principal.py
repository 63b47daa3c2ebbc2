"""Task: T-006, T-400
Spec: specs/features/authentication.md §Shared authentication hook, §Personal access tokens

Who made a request, as the kernel tells every plugin; and the callable that finds out.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.core.db.pool import Database


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated user. `id` is text: Better Auth user ids are not UUIDs."""

    id: str
    email: str | None = None
    name: str | None = None
    # What the token may do: None for a session token (a JWT from login or Better Auth), which
    # carries every scope; a personal access token's own scopes otherwise.
    scopes: frozenset[str] | None = None

    def allows(self, scope: str) -> bool:
        return self.scopes is None or scope in self.scopes


class AuthenticationError(Exception):
    """Raised by an authenticator for a token it recognises but refuses (expired, bad
    signature, unknown user...). The message becomes the 401's `detail`, so it must be safe
    to show: never a key, a claim dump or an internal error."""


# Awaited inside a request with the bearer token and the database (unscoped). Returns None
# when the token is not its to judge, so the next authenticator may try.
Authenticator = Callable[[str, "Database"], Awaitable[Principal | None]]
