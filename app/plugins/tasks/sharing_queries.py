"""Task: T-330, T-331, T-332, T-333
Spec: specs/features/sharing.md §Members and invitations; specs/api/rest-endpoints.md §Sharing

The statements of the members, invitations and transfer routes, each one round trip. All but
`ACCEPT` are scoped to the caller by the kernel; the owner-only routes declare
`requires_role("owner")`, and each of their statements reads the list itself at that role
(`_owned_list`), so a member below it gets a 403 whatever the target, a stranger a 404.

`ACCEPT` is the deliberate exception: accepting an invitation is the one write that reaches a
list the caller cannot see yet, so it is plain SQL through the unscoped database, one statement,
with the caller's id from `CurrentUser`.
"""

from typing import Any

from sqlalchemy import (
    DateTime,
    Integer,
    Text,
    bindparam,
    case,
    delete,
    exists,
    insert,
    literal,
    not_,
    or_,
    select,
    text,
    union_all,
    update,
)

from app.core import OWNER_ROLE, caller
from app.plugins.auth.api import User
from app.plugins.tasks.models import ListInvitation, ListMember, Role, TaskList
from app.plugins.tasks.schemas import OWN_LIST_COLUMNS

L = TaskList.__table__.c  # type: ignore[attr-defined]
M = ListMember.__table__.c  # type: ignore[attr-defined]
I = ListInvitation.__table__.c  # type: ignore[attr-defined]  # noqa: E741
U = User.__table__.c  # type: ignore[attr-defined]

LIST_ID = bindparam("list_id", type_=Text)
MEMBER_ID = bindparam("member_id", type_=Text)
ROLE = bindparam("role", type_=Text)
NOW = bindparam("now", type_=DateTime(timezone=True))


def _owned_list(*conditions: Any) -> Any:
    """`EXISTS (the list)`, read at the route's role: an InitPlan the statement evaluates
    before any row, so a member below the role is refused (403) even when nothing else
    matches, and a stranger's statement matches nothing (404)."""
    return exists(select(L.id).where(L.id == LIST_ID, *conditions))


# The owner first (joined when the list was made), then the members in the order they joined.
# A member's email is shown to the list's owner and to the member themself (sharing.md).
_owner = (
    select(
        L.user_id.label("user_id"),
        U.name,
        U.email,
        literal(OWNER_ROLE).label("role"),
        L.created_at.label("joined_at"),
        literal(0).label("rank"),
    )
    .select_from(TaskList.__table__.join(User.__table__, U.id == L.user_id))  # type: ignore[attr-defined]
    .where(L.id == LIST_ID)
)
_members = (
    select(
        M.member_id.label("user_id"),
        U.name,
        case((or_(M.user_id == caller(), M.member_id == caller()), U.email)).label("email"),
        M.role,
        M.joined_at,
        literal(1).label("rank"),
    )
    .select_from(ListMember.__table__.join(User.__table__, U.id == M.member_id))  # type: ignore[attr-defined]
    .where(M.list_id == LIST_ID)
)
_everyone = union_all(_owner, _members).subquery("everyone")
MEMBERS = select(
    _everyone.c.user_id,
    _everyone.c.name,
    _everyone.c.email,
    _everyone.c.role,
    _everyone.c.joined_at,
).order_by(_everyone.c.rank, _everyone.c.joined_at, _everyone.c.user_id)


def _answered(changed: Any) -> Any:
    """The changed membership as `MEMBERS` shows it to the owner (who sees every email)."""
    return select(
        changed.c.member_id.label("user_id"),
        U.name,
        U.email,
        changed.c.role,
        changed.c.joined_at,
    ).join_from(changed, User.__table__, U.id == changed.c.member_id)  # type: ignore[attr-defined]


_role_changed = (
    update(ListMember)
    .where(M.list_id == LIST_ID, M.member_id == MEMBER_ID, _owned_list())
    .values(role=ROLE)
    .returning(M.member_id, M.role, M.joined_at)
    .cte("changed")
)
CHANGE_ROLE = _answered(_role_changed)

REMOVE = (
    delete(ListMember)
    .where(M.list_id == LIST_ID, M.member_id == MEMBER_ID, _owned_list())
    .returning(M.member_id)
)
# The kernel lets a member delete their own membership row (and nobody else's).
LEAVE = delete(ListMember).where(M.list_id == LIST_ID, M.member_id == caller()).returning(M.list_id)

# Handing a list over, in one statement: the new owner's membership row becomes the old
# owner's (an editor since the list was made), already naming the new owner as its `user_id`
# (a membership whose member is its list's owner is refused on the spot, by a check); the list
# changes owner, and its tasks, other members and invitations follow by their cascading keys.
# Nothing changes unless the new owner is a member of a list the caller owns, not a default one.
_handed = (
    update(ListMember)
    .where(
        M.list_id == LIST_ID,
        M.member_id == MEMBER_ID,
        _owned_list(not_(L.is_default)),
    )
    .values(
        member_id=caller(),
        user_id=MEMBER_ID,
        role=Role.editor.value,
        joined_at=select(L.created_at).where(L.id == LIST_ID).scalar_subquery(),
    )
    .returning(M.list_id)
    .cte("handed")
)
# The list as the caller sees it now: an editor of someone else's list.
_AS_EDITOR = (*OWN_LIST_COLUMNS[:-1], literal(Role.editor.value).label("role"))
TRANSFER = (
    update(TaskList)
    .where(L.id == LIST_ID, L.id.in_(select(_handed.c.list_id)))
    .values(user_id=MEMBER_ID, updated_at=NOW, version=L.version + 1)
    .returning(*_AS_EDITOR)
)

INVITATION_COLUMNS = (I.id, I.role, I.expires_at, I.max_uses, I.uses, I.created_at)
INVITE = (
    insert(ListInvitation)
    .from_select(
        ["id", "list_id", "role", "token_hash", "expires_at", "max_uses", "uses", "created_at"],
        select(
            bindparam("id", type_=Text),
            L.id,
            ROLE,
            bindparam("token_hash", type_=Text),
            bindparam("expires_at", type_=DateTime(timezone=True)),
            bindparam("max_uses", type_=Integer),
            literal(0),
            NOW,
        ).where(L.id == LIST_ID, not_(L.is_default)),
    )
    .returning(*INVITATION_COLUMNS)
)
# The list's invitations, oldest first, after one row for the list itself (its invitation
# columns null when it has none): no row at all means no list the caller may see.
INVITATIONS = (
    select(*INVITATION_COLUMNS)
    .select_from(TaskList.__table__)  # type: ignore[attr-defined]
    .outerjoin(ListInvitation.__table__, I.list_id == L.id)  # type: ignore[attr-defined]
    .where(L.id == LIST_ID)
    .order_by(I.created_at.nulls_first(), I.id.nulls_first())
)
REVOKE = (
    delete(ListInvitation)
    .where(I.id == bindparam("invitation_id", type_=Text), I.list_id == LIST_ID, _owned_list())
    .returning(I.id)
)

# Accepting an invitation (plain SQL through the unscoped database: see the module's doc).
# One use is taken only by a caller who is not already the owner or a member; the UPDATE
# re-checks `uses < max_uses` on the row it locks, so concurrent accepts never take more uses
# than there are. The answer is the list as the caller now sees it (their role on it), or no
# row for a token that names no live invitation.
ACCEPT = text(
    """
WITH invitation AS (
    SELECT id, list_id, user_id FROM list_invitations
    WHERE token_hash = :token_hash AND expires_at > :now
), already AS (
    SELECT list_id, 'owner' AS role FROM invitation WHERE user_id = :me
    UNION ALL
    SELECT m.list_id, m.role FROM list_members m JOIN invitation i ON m.list_id = i.list_id
    WHERE m.member_id = :me
), used AS (
    UPDATE list_invitations SET uses = uses + 1
    WHERE id = (SELECT id FROM invitation) AND NOT EXISTS (SELECT FROM already)
      AND (max_uses IS NULL OR uses < max_uses) AND expires_at > :now
    RETURNING list_id, user_id, role
), joined AS (
    INSERT INTO list_members (list_id, member_id, user_id, role, joined_at)
    SELECT list_id, :me, user_id, role, :now FROM used
    ON CONFLICT DO NOTHING
), reached AS (
    SELECT list_id, role FROM used UNION ALL SELECT list_id, role FROM already
)
SELECT l.id, l.name, l.position, l.is_default, l.created_at, l.updated_at, l.version,
       l.user_id AS owner_id, r.role
FROM reached r JOIN lists l ON l.id = r.list_id
"""
)
