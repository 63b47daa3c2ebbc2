"""Task: T-006, T-400, T-441, T-456
Spec: specs/features/authentication.md §Shared authentication hook, §Scopes

The request-time edges plugins depend on: the database, and the current user, whose token must
carry the scope the route needs.
"""

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from app.core.db.pool import Database, Executor
from app.core.http.marks import required_role, required_scope, resource_metadata_of
from app.core.http.principal import AuthenticationError, Authenticator, Principal


async def _database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


DB = Annotated[Database, Depends(_database)]


def _unauthorized(request: Request, detail: str) -> HTTPException:
    challenge = "Bearer"
    if (metadata := resource_metadata_of(request.scope.get("endpoint"))) is not None:
        origin = str(request.base_url).rstrip("/")
        challenge = f'Bearer resource_metadata="{origin}{metadata}"'
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": challenge}
    )


def _missing(scope: str) -> HTTPException:
    # RFC 6750 §3.1: the scope the token lacks, also for clients that read only the header.
    return HTTPException(
        status.HTTP_403_FORBIDDEN,
        f"This token lacks the scope {scope!r}",
        headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'},
    )


PRINCIPAL_KEY = "todo_api.principal"


async def _authenticate(request: Request) -> Principal:
    """Who the bearer token names, if it may call this route: here, where every route
    authenticates, so none can forget the scope check."""
    principal = await _principal(request)
    if principal.scopes is not None:  # session tokens carry every scope
        scope = required_scope(request.scope.get("endpoint"), request.method)
        if scope is not None and scope not in principal.scopes:
            raise _missing(scope)
    return principal


def bearer_token(request: Request) -> str:
    """The token of `Authorization: Bearer <token>`, or "". Only that header is read, never the
    query string. Read here rather than through a `Security(OAuth2PasswordBearer)` dependency:
    FastAPI solves each dependency level anew on every request, and this is every protected
    request's path (the OpenAPI document states the scheme: `app.core.http.openapi`)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


async def _principal(request: Request) -> Principal:
    """Who the bearer token names, asked of the authenticators once per request."""
    known: Principal | None = request.scope.get(PRINCIPAL_KEY)
    if known is not None:
        return known
    token = bearer_token(request)
    if not token:
        raise _unauthorized(request, "Not authenticated")
    database: Database = request.app.state.database
    authenticators: list[Authenticator] = request.app.state.authenticators
    for authenticate in authenticators:
        try:
            principal = await authenticate(token, database)
        except AuthenticationError as exc:
            raise _unauthorized(request, str(exc)) from None
        if principal is not None:
            request.scope[PRINCIPAL_KEY] = principal
            return principal
    raise _unauthorized(request, "Invalid token")


async def current_user(request: Request) -> Principal:
    return await _authenticate(request)


CurrentUser = Annotated[Principal, Depends(current_user)]


async def owned_database(request: Request) -> Executor:
    # Authenticates by itself rather than through `CurrentUser`: on the hottest routes this is
    # the only dependency FastAPI has to solve.
    user = await _authenticate(request)
    database: Database = request.app.state.database
    return database.owned(user.id, required_role(request.scope.get("endpoint")))


OwnedDB = Annotated[Executor, Depends(owned_database)]
# Dependencies that authenticate: a route using one needs no other.
AUTHENTICATING = (current_user, owned_database)
# Dependencies that may reach the database (authenticating may look the user up).
USING_DATABASE = (_database, *AUTHENTICATING)
