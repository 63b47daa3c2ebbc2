"""Task: T-330, T-331, T-332, T-333
Spec: specs/api/rest-endpoints.md §Sharing; specs/features/sharing.md §Members and invitations

A list's members, its invitations by link and its transfer to another owner. Who may do what is
the kernel's: every statement is scoped to the caller (a stranger finds nothing: 404), and the
owner's routes declare `requires_role("owner")` (a member gets 403). Each request's normal path
is one statement (`sharing_queries`).
"""

import secrets
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Response, status

from app.core import (
    DB,
    Context,
    CurrentUser,
    Executor,
    OwnedDB,
    id_or_404,
    invalid,
    json_response,
    new_id,
    one_or_404,
    requires_role,
    secret_digest,
    utcnow,
)
from app.plugins.tasks import list_queries, sharing_queries
from app.plugins.tasks.list_routes import NOT_FOUND, ListId
from app.plugins.tasks.routes import tagged_response
from app.plugins.tasks.schemas import ListOut
from app.plugins.tasks.sharing_schemas import (
    EXAMPLE_INVITATION,
    EXAMPLE_TOKEN,
    EXAMPLE_USER_ID,
    InvitationCreate,
    InvitationCreated,
    InvitationOut,
    MemberOut,
    RoleChange,
    Transfer,
    UserId,
)

MemberId = Annotated[UserId, Path(description="The member's user id", examples=[EXAMPLE_USER_ID])]
InvitationId = Annotated[
    str, Path(description="The invitation's id", examples=[EXAMPLE_INVITATION["id"]])
]
Token = Annotated[
    str, Path(description="The invitation's token, from its `url_path`", examples=[EXAMPLE_TOKEN])
]
# Tokens are 43 characters (`secrets.token_urlsafe(32)`): a longer one names no invitation
# (a 404 like any other, not hashed).
MAX_TOKEN = 100
FORBIDDEN: dict[int | str, dict[str, Any]] = {
    403: {"description": "You are a member of the list but not its owner"}
}
OWNERS = {**NOT_FOUND, **FORBIDDEN}
DEFAULT_LIST: dict[int | str, dict[str, Any]] = {
    409: {"description": "It is your default list, which cannot be shared"}
}
# Where the kernel mounts every router (the rules: every route is under /api/v1).
API_PREFIX = "/api/v1"


async def _refuse_unshareable(db: Executor, list_id: str) -> None:
    """A statement sharing a list the caller owns changed nothing: 404 when there is no such
    list, 409 when it is their default list; else the caller says why."""
    found = one_or_404(await db.fetchrow(list_queries.GET, id=list_id), "List")
    if found["is_default"]:
        raise HTTPException(status.HTTP_409_CONFLICT, "Your default list cannot be shared")


def build_router(context: Context) -> APIRouter:
    router = APIRouter(tags=["lists"])

    @router.get(
        "/lists/{list_id}/members",
        name="members",
        summary="List a list's owner and members",
        response_model=list[MemberOut],
        responses=NOT_FOUND,
        description="Answers the list's owner, then its members in the order they joined. A "
        "member's email is shown to the owner and to the member themself; null otherwise.",
    )
    async def list_members(list_id: ListId, db: OwnedDB) -> Response:
        rows = await db.fetch(sharing_queries.MEMBERS, list_id=id_or_404(list_id, "List"))
        # The owner is always there: no row, no list the caller may see.
        one_or_404(rows or None, "List")
        return json_response(rows)

    @router.patch(
        "/lists/{list_id}/members/{member_id}",
        name="update_member",
        summary="Change a member's role",
        response_model=MemberOut,
        responses=OWNERS,
        description="The owner makes a member an `editor` or a `viewer`. Someone who is no "
        "member is a 404.",
    )
    @requires_role("owner")
    async def change_role(
        list_id: ListId, member_id: MemberId, body: RoleChange, db: OwnedDB
    ) -> Response:
        changed = await db.fetchrow(
            sharing_queries.CHANGE_ROLE,
            list_id=id_or_404(list_id, "List"),
            member_id=member_id,
            role=body.role.value,
        )
        return json_response(dict(one_or_404(changed, "Member")))

    # Declared before `/members/{member_id}`, which `me` would otherwise match.
    @router.delete(
        "/lists/{list_id}/members/me",
        name="leave",
        summary="Leave a list",
        status_code=status.HTTP_204_NO_CONTENT,
        responses={
            **NOT_FOUND,
            409: {"description": "You own the list: hand it over first (`POST …/transfer`)"},
        },
        description="A member leaves the list, losing access at once. Its owner cannot: 409.",
    )
    async def leave(list_id: ListId, db: OwnedDB) -> Response:
        list_id = id_or_404(list_id, "List")
        if await db.fetchrow(sharing_queries.LEAVE, list_id=list_id) is None:
            found = one_or_404(await db.fetchrow(list_queries.GET, id=list_id), "List")
            if found["role"] == "owner":
                raise HTTPException(
                    status.HTTP_409_CONFLICT,
                    "You own this list: transfer it to a member before leaving",
                )
            raise HTTPException(status.HTTP_404_NOT_FOUND, "List not found")
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.delete(
        "/lists/{list_id}/members/{member_id}",
        name="remove_member",
        summary="Remove a member",
        status_code=status.HTTP_204_NO_CONTENT,
        responses=OWNERS,
        description="The owner removes a member, who loses access at once. Someone who is no "
        "member is a 404.",
    )
    @requires_role("owner")
    async def remove_member(list_id: ListId, member_id: MemberId, db: OwnedDB) -> Response:
        removed = await db.fetchrow(
            sharing_queries.REMOVE, list_id=id_or_404(list_id, "List"), member_id=member_id
        )
        one_or_404(removed, "Member")
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.post(
        "/lists/{list_id}/transfer",
        name="transfer",
        summary="Hand a list over to a member",
        response_model=ListOut,
        responses={**OWNERS, **DEFAULT_LIST},
        description="The owner hands the list, with its tasks, members and invitations, to one "
        "of its members, who becomes its owner; the old owner becomes an editor. Answers the "
        "list as you now see it. Someone who is no member is a 422 naming `user_id`; your "
        "default list is a 409.",
    )
    @requires_role("owner")
    async def transfer(list_id: ListId, body: Transfer, db: OwnedDB) -> Response:
        list_id = id_or_404(list_id, "List")
        handed = await db.fetchrow(
            sharing_queries.TRANSFER, list_id=list_id, member_id=body.user_id, now=utcnow()
        )
        if handed is None:
            await _refuse_unshareable(db, list_id)
            raise invalid(("body", "user_id"), "not a member of this list")
        return tagged_response(handed)

    @router.post(
        "/lists/{list_id}/invitations",
        name="invite",
        summary="Make an invitation link",
        status_code=status.HTTP_201_CREATED,
        response_model=InvitationCreated,
        responses={**OWNERS, **DEFAULT_LIST},
        description="The owner makes a link that makes whoever accepts it a member at `role`, "
        "until `expires_in` seconds from now, for at most `max_uses` people. The token is in "
        "this answer only: it is stored as its SHA-256. Your default list is a 409.",
    )
    @requires_role("owner")
    async def invite(list_id: ListId, body: InvitationCreate, db: OwnedDB) -> Response:
        list_id = id_or_404(list_id, "List")
        token = secrets.token_urlsafe(32)
        now = utcnow()
        made = await db.fetchrow(
            sharing_queries.INVITE,
            id=new_id(),
            list_id=list_id,
            role=body.role.value,
            token_hash=secret_digest(token),
            expires_at=now + timedelta(seconds=body.expires_in),
            max_uses=body.max_uses,
            now=now,
        )
        if made is None:
            await _refuse_unshareable(db, list_id)
            raise HTTPException(status.HTTP_404_NOT_FOUND, "List not found")
        url_path = f"{API_PREFIX}/invitations/{token}/accept"
        return json_response(
            {**dict(made), "token": token, "url_path": url_path}, status.HTTP_201_CREATED
        )

    @router.get(
        "/lists/{list_id}/invitations",
        name="list_invitations",
        summary="List a list's invitations",
        response_model=list[InvitationOut],
        responses=OWNERS,
        description="The owner's invitations for the list, oldest first, without their tokens; "
        "expired and used-up ones too, until revoked.",
    )
    @requires_role("owner")
    async def list_invitations(list_id: ListId, db: OwnedDB) -> Response:
        rows = await db.fetch(sharing_queries.INVITATIONS, list_id=id_or_404(list_id, "List"))
        one_or_404(rows or None, "List")
        return json_response([row for row in rows if row["id"] is not None])

    @router.delete(
        "/lists/{list_id}/invitations/{invitation_id}",
        name="revoke",
        summary="Revoke an invitation",
        status_code=status.HTTP_204_NO_CONTENT,
        responses=OWNERS,
        description="The owner revokes an invitation: its link makes nobody a member any more "
        "(members it made stay).",
    )
    @requires_role("owner")
    async def revoke(list_id: ListId, invitation_id: InvitationId, db: OwnedDB) -> Response:
        revoked = await db.fetchrow(
            sharing_queries.REVOKE,
            list_id=id_or_404(list_id, "List"),
            invitation_id=id_or_404(invitation_id, "Invitation"),
        )
        one_or_404(revoked, "Invitation")
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.post(
        "/invitations/{token}/accept",
        name="accept",
        summary="Accept an invitation",
        response_model=ListOut,
        responses={
            404: {
                "description": "The token names no live invitation (unknown, expired, "
                "revoked or used up)"
            }
        },
        description="Makes you a member of the invitation's list at its role, and answers the "
        "list as you now see it. Accepting again, or the owner accepting, changes nothing and "
        "answers the same. An unknown, expired, revoked or used-up token is a 404 that says "
        "nothing about the list.",
    )
    async def accept(token: Token, user: CurrentUser, db: DB) -> Response:
        # The one statement that reaches a list the caller cannot see yet: plain SQL through
        # the unscoped database, for the caller only (sharing_queries.ACCEPT).
        joined = None
        if len(token) <= MAX_TOKEN:
            joined = await db.fetchrow(
                sharing_queries.ACCEPT, token_hash=secret_digest(token), me=user.id, now=utcnow()
            )
        return tagged_response(one_or_404(joined, "Invitation"))

    return router
