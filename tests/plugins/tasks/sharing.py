"""Task: T-362, T-336
Spec: specs/features/sharing.md §Testing

`share` and `unshare` for the test kit's role check (`assert_isolated(..., share=, unshare=)`),
written straight into `list_members`: every list of the owner's but their default one. And what
the tasks plugin's isolation suites give the sharing routes: path values, bodies, 404 details.
"""

from typing import Any

from app.testing import ApiUser, Share, Unshare

LISTS = "/api/v1/lists"

SHARE = """
INSERT INTO list_members (list_id, user_id, member_id, role)
SELECT id, user_id, $2, $3 FROM lists WHERE user_id = $1 AND NOT is_default
ON CONFLICT (list_id, member_id) DO UPDATE SET role = EXCLUDED.role
"""
UNSHARE = "DELETE FROM list_members WHERE user_id = $1 AND member_id = $2"


def sharing(db: Any) -> tuple[Share, Unshare]:
    """`share(owner, member, role)` and `unshare(owner, member)` on the asyncpg connection `db`."""

    async def share(owner: ApiUser, member: ApiUser, role: str) -> None:
        await db.execute(SHARE, owner.id, member.id, role)

    async def unshare(owner: ApiUser, member: ApiUser) -> None:
        await db.execute(UNSHARE, owner.id, member.id)

    return share, unshare


async def sharing_values(user: ApiUser, list_id: str) -> dict[str, str]:
    """The path values of the sharing routes for `user`'s (not default) list: a live
    invitation, the user as the member, and a revoked invitation's token (a live token is the
    capability the accept route exists for, test_invitations.py; a dead one names nothing)."""
    invitations = f"{LISTS}/{list_id}/invitations"
    invited = await user.post(invitations, json={"role": "editor"})
    revoked = await user.post(invitations, json={"role": "editor"})
    await user.delete(f"{invitations}/{revoked.json()['id']}")
    return {
        "invitation_id": invited.json()["id"],
        "member_id": user.id,
        "token": revoked.json()["token"],
    }


def sharing_bodies(intruder: ApiUser) -> dict[str, dict[str, str]]:
    """Bodies valid for the sharing routes that take one, so validation cannot answer first."""
    return {
        f"{LISTS}/{{list_id}}/members/{{member_id}}": {"role": "viewer"},
        f"{LISTS}/{{list_id}}/transfer": {"user_id": intruder.id},
        f"{LISTS}/{{list_id}}/invitations": {"role": "editor"},
    }


def not_found(path: str) -> str:
    """The 404's detail of a tasks plugin route, by its path."""
    for tail, what in (("{member_id}", "Member"), ("{invitation_id}", "Invitation")):
        if path.endswith(tail):
            return f"{what} not found"
    if path.startswith("/api/v1/invitations"):
        return "Invitation not found"
    return "List not found" if path.startswith(LISTS) else "Task not found"
