"""Task: T-363
Spec: specs/features/sharing.md §Testing; specs/features/plugins.md §Testing

The kit's role check fails a plugin that forgets a role: a throwaway plugin's route that writes
a shared task through plain SQL (bypassing the access rule), one that answers 403 yet changed
the row, and an owner-marked route that reads through the unscoped database, each fail
`assert_isolated(..., share=, unshare=)` with a message naming the route; the same plugin
written through `OwnedDB` passes.
"""

from collections.abc import Sequence

import pytest
from fastapi import APIRouter, HTTPException
from sqlalchemy import bindparam, select, text, update

from app.core import DB, OWNER_ROLE, Context, CurrentUser, OwnedDB, hookimpl, requires_role
from app.plugins.tasks.api import Task
from app.testing import ApiUser, assert_isolated, sign_up
from tests.plugins.tasks.sharing import sharing

TASKS, LISTS = "/api/v1/tasks", "/api/v1/lists"
T = Task.__table__.c  # type: ignore[attr-defined]
READ = select(T.id, T.title).where(T.id == bindparam("id"))
RENAME = update(Task).where(T.id == bindparam("id")).values(title="renamed").returning(T.id)
# Plain SQL through the unscoped `DB`: no access rule, so no role either.
RENAME_ANYWAY = text("UPDATE tasks SET title = 'renamed' WHERE id = :id RETURNING id")
READ_ANYWAY = text(
    "SELECT id, title FROM tasks WHERE id = :id AND (user_id = :me"
    " OR list_id IN (SELECT list_id FROM list_members WHERE member_id = :me))"
)

ROLE = text(
    "SELECT role FROM list_members JOIN tasks USING (list_id) WHERE tasks.id = :id"
    " AND member_id = :me"
)


class Unguarded:
    """`/unguarded/{task_id}`: read a task; rename it (a write); `…/audit` (owner only)."""

    def __init__(
        self,
        *,
        bypass: bool = False,
        says_403: bool = False,
        peeks: bool = False,
        editors_manage: bool = False,
    ):
        self.bypass, self.says_403, self.peeks = bypass, says_403, peeks
        self.editors_manage = editors_manage

    @hookimpl
    def routers(self, context: Context) -> Sequence[APIRouter]:
        router = APIRouter(prefix="/unguarded")

        @router.get("/{task_id}")
        async def read(task_id: str, db: OwnedDB) -> dict[str, str]:
            row = await db.fetchrow(READ, id=task_id)
            if row is None:
                raise HTTPException(404, "Not found")
            return dict(row)

        @router.post("/{task_id}/rename")
        async def rename(task_id: str, db: OwnedDB, unscoped: DB) -> dict[str, str]:
            if self.bypass or self.says_403:
                # Only what the caller can read is renamed: a stranger still gets a 404.
                if await db.fetchrow(READ, id=task_id) is None:
                    raise HTTPException(404, "Not found")
                await unscoped.execute(RENAME_ANYWAY, id=task_id)
                if self.says_403:
                    raise HTTPException(403, "Forbidden")
                return {"id": task_id}
            if await db.fetchval(RENAME, id=task_id) is None:
                raise HTTPException(404, "Not found")
            return {"id": task_id}

        @router.get("/{task_id}/audit")
        @requires_role(OWNER_ROLE)
        async def audit(
            task_id: str, db: OwnedDB, unscoped: DB, user: CurrentUser
        ) -> dict[str, str]:
            if self.peeks:  # membership checked by hand, the role forgotten
                row = await unscoped.fetchrow(READ_ANYWAY, id=task_id, me=user.id)
            elif self.editors_manage:  # a role checked by hand, one too low
                row = await unscoped.fetchrow(READ_ANYWAY, id=task_id, me=user.id)
                role = await unscoped.fetchval(ROLE, id=task_id, me=user.id)
                if row is not None and role == "viewer":
                    raise HTTPException(403, "Forbidden")
            else:
                row = await db.fetchrow(READ, id=task_id)
            if row is None:
                raise HTTPException(404, "Not found")
            return dict(row)

        return [router]


async def create(user: ApiUser) -> dict[str, str]:
    made = await user.post(LISTS, json={"name": "shared"})
    task = await user.post(TASKS, json={"title": "mine", "list_id": made.json()["id"]})
    assert task.status_code == 201, task.text
    return {"task_id": task.json()["id"]}


@pytest.mark.parametrize(
    ("mistake", "message"),
    [
        # A viewer's write answered 200: the plain SQL renamed the shared task.
        (
            {"bypass": True},
            r"POST /api/v1/unguarded/\{task_id\}/rename by a viewer .* answered 200",
        ),
        # The right status, yet the row changed.
        ({"says_403": True}, r"POST /api/v1/unguarded/\{task_id\}/rename by a viewer .*changed"),
        # The owner's route answered a member: the hand-made check forgot the role.
        ({"peeks": True}, r"GET /api/v1/unguarded/\{task_id\}/audit by a viewer .* answered 200"),
        # A viewer is refused, an editor let in to what only the owner may do.
        (
            {"editors_manage": True},
            r"GET /api/v1/unguarded/\{task_id\}/audit by an editor .* answered 200",
        ),
    ],
)
async def test_an_unguarded_route_fails_the_role_check(make_client, db, mistake, message):
    client = await make_client(extra={"unguarded": Unguarded(**mistake)})
    alice, bob = await sign_up(client, ApiUser), await sign_up(client, ApiUser)
    share, unshare = sharing(db)
    with pytest.raises(AssertionError, match=message):
        await assert_isolated(
            client.app, alice, bob, plugin="unguarded", create=create, share=share, unshare=unshare
        )


async def test_a_guarded_plugin_passes_the_role_check(make_client, db):
    client = await make_client(extra={"unguarded": Unguarded()})
    alice, bob = await sign_up(client, ApiUser), await sign_up(client, ApiUser)
    share, unshare = sharing(db)
    checked = await assert_isolated(
        client.app, alice, bob, plugin="unguarded", create=create, share=share, unshare=unshare
    )
    route = "/api/v1/unguarded/{task_id}"
    assert checked.readable == [("GET", route)]
    assert checked.forbidden == [("GET", f"{route}/audit"), ("POST", f"{route}/rename")]
    assert checked.owner_only == [("GET", f"{route}/audit")]
    assert checked.revoked == checked.unreachable and len(checked.revoked) == 3
