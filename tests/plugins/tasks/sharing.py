"""Task: T-362
Spec: specs/features/sharing.md §Testing

`share` and `unshare` for the test kit's role check (`assert_isolated(..., share=, unshare=)`),
written straight into `list_members`: every list of the owner's but their default one.
"""

from typing import Any

from app.testing import ApiUser, Share, Unshare

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
