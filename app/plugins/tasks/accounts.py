"""Task: T-393, T-394
Spec: specs/features/authentication.md §Account deletion, §Data export; specs/features/sharing.md
§Members and invitations

The tasks plugin's part in deleting an account and in its data export (the auth plugin's
`account_deletion` and `account_export` hooks).

Deleting a user deletes their lists and tasks by the cascade from `users`; before that, each list
they share with editors is handed to the longest-standing one, as `POST /lists/{id}/transfer`
does (its tasks, members and invitations follow by their cascading keys), and the user's name
is taken off the tasks they wrote in lists of others (`created_by`, `updated_by`,
`completed_by`: no foreign key). A list shared with viewers only goes with its owner.
"""

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import distinct_on

from app.core import OWNER_ROLE, Executor, caller, utcnow
from app.plugins.tasks import sharing_queries
from app.plugins.tasks.models import ListMember, Role, Task, TaskList

M = ListMember.__table__.c  # type: ignore[attr-defined]

# Each list the user owns with an editor, and its longest-standing editor (ties: the smallest
# id, so the choice is the same on every run). Read at the members' role, which reaches the
# memberships of lists the user is a member of too: those are left out by `user_id`.
HEIRS = (
    select(M.list_id, M.member_id)
    .ext(distinct_on(M.list_id))
    .where(M.user_id == caller(), M.role == Role.editor.value)
    .order_by(M.list_id, M.joined_at, M.member_id)
)
# Plain SQL through the unscoped transaction: these rows belong to other users, whose tasks
# the deleted user wrote. A seq scan of `tasks`: no index serves these columns, and an account
# is deleted rarely.
FORGET_WRITER = text(
    """
UPDATE tasks SET created_by = NULLIF(created_by, :me), updated_by = NULLIF(updated_by, :me),
    completed_by = NULLIF(completed_by, :me)
WHERE :me IN (created_by, updated_by, completed_by)
"""
)


async def hand_over(transaction: Executor, user_id: str) -> None:
    await transaction.execute(FORGET_WRITER, me=user_id)
    owned = transaction.owned(user_id, OWNER_ROLE)
    for heir in await transaction.owned(user_id).fetch(HEIRS):
        await owned.fetchrow(
            sharing_queries.TRANSFER,
            list_id=heir["list_id"],
            member_id=heir["member_id"],
            now=utcnow(),
        )


L = TaskList.__table__  # type: ignore[attr-defined]
T = Task.__table__  # type: ignore[attr-defined]
# Keyed as the indexes led by `user_id` order them (`ix_lists_user_position`,
# `ix_tasks_user_created_at`): each page of the export is a short range scan.
SECTIONS = {
    "lists": (select(L), (L.c.position, L.c.id)),
    "tasks": (select(T), (T.c.created_at, T.c.id)),
}
