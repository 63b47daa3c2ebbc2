"""Task: T-006
Spec: specs/features/authentication.md §Shared authentication hook

The request-time edges plugins depend on: a database session, and the current user.

`CurrentUser` is the one way a plugin learns who is calling. It awaits the authenticators the
plugins returned from the `authenticator` hook; the kernel adds it to every plugin route that is
not marked `@public`, so a route cannot be left open by forgetting it.
"""

from collections.abc import AsyncIterator, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.principal import AuthenticationError, Principal

# The OAuth2 password flow makes the docs page's Authorize button work; the token endpoint is
# the auth plugin's. Only the Authorization header is read, never the query string.
TOKEN_URL = "/api/v1/auth/token"
bearer = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)

F = TypeVar("F", bound=Callable[..., object])


def public(endpoint: F) -> F:
    """Mark a route's endpoint as open to anonymous callers (put it under `@router.get(...)`)."""
    endpoint.__todo_api_public__ = True  # type: ignore[attr-defined]
    return endpoint


def is_public(endpoint: Callable[..., object]) -> bool:
    return getattr(endpoint, "__todo_api_public__", False)


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessionmaker() as session:
        yield session


Session = Annotated[AsyncSession, Depends(_session)]


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"}
    )


async def current_user(
    request: Request, session: Session, token: Annotated[str | None, Depends(bearer)]
) -> Principal:
    if not token:
        raise _unauthorized("Not authenticated")
    for authenticate in request.app.state.authenticators:
        try:
            principal = await authenticate(token, session)
        except AuthenticationError as exc:
            raise _unauthorized(str(exc)) from None
        if principal is not None:
            return principal
    raise _unauthorized("Invalid token")


CurrentUser = Annotated[Principal, Depends(current_user)]
