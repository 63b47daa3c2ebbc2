"""Task: T-403
Spec: specs/api/rest-endpoints.md §Auth; specs/features/authentication.md §Personal access tokens

`/api/v1/auth/tokens`: personal access tokens, created (shown once), listed, revoked. Like every
auth route they need `auth:account`, which no personal token is ever given: a session manages
tokens, a token never does.
"""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request, Response, status

from app.core import (
    DB,
    LOCATION,
    CurrentUser,
    id_or_404,
    invalid,
    json_response,
    known_scopes,
)
from app.plugins.auth import personal
from app.plugins.auth.personal_schemas import EXAMPLE_ID, CreatedToken, TokenOut, TokenRequest

# The scope of the auth plugin's own routes (accounts, sessions, tokens): never given to a token.
ACCOUNT_SCOPE = "auth:account"
TokenId = Annotated[
    str,
    Path(
        description="The token's id; one that names no token of yours is a 404",
        examples=[EXAMPLE_ID],
    ),
]


def build_token_router(tokens: personal.PersonalTokens) -> APIRouter:
    router = APIRouter(prefix="/auth/tokens", tags=["auth"])

    @router.post(
        "",
        name="create_token",
        status_code=status.HTTP_201_CREATED,
        response_model=CreatedToken,
        responses={
            201: {"headers": LOCATION},
            409: {"description": f"You hold {personal.MAX_TOKENS} tokens already"},
        },
        description="Creates a personal access token for scripts, limited to `scopes` and "
        "optionally expiring; send it as a bearer token. It is in this answer only: just its "
        "hash is kept. A scope this API does not have, or `auth:account`, is a 422.",
    )
    async def create_token(
        body: TokenRequest, user: CurrentUser, request: Request, db: DB
    ) -> Response:
        grantable = set(known_scopes(request.app)) - {ACCOUNT_SCOPE}
        for index, scope in enumerate(body.scopes):
            if scope not in grantable:
                raise invalid(
                    ("body", "scopes", index),
                    f"{scope!r} is no scope a token may have; these are: {', '.join(sorted(grantable))}",
                )
        created = await personal.create(db, user.id, body.name, body.scopes, body.expires_at)
        if created is None:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                f"You hold {personal.MAX_TOKENS} tokens already: revoke one first",
            )
        token, row = created
        return json_response(
            CreatedToken.model_validate(dict(row) | {"token": token}),
            status.HTTP_201_CREATED,
            {"Location": request.url_for("auth_tokens").path},
        )

    @router.get(
        "",
        name="auth_tokens",
        response_model=list[TokenOut],
        description="Your personal access tokens, newest first, with when each was last used "
        "(never their secrets).",
    )
    async def list_tokens(user: CurrentUser, db: DB) -> Response:
        rows = await personal.listed(db, user.id)
        return json_response([TokenOut.model_validate(dict(row)) for row in rows])

    @router.delete(
        "/{token_id}",
        name="revoke_token",
        status_code=status.HTTP_204_NO_CONTENT,
        responses={404: {"description": "You have no token of this id"}},
        description="Revokes one of your personal access tokens: this instance refuses it at "
        "once, every other within 5 seconds.",
    )
    async def revoke_token(token_id: TokenId, user: CurrentUser, db: DB) -> Response:
        revoked = await personal.revoke(db, user.id, id_or_404(token_id, "Token"))
        if not revoked:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "Token not found")
        # This instance refuses it at once; the others within their cache's few seconds.
        tokens.forget()
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router
