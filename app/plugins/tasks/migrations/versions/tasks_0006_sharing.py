"""Shared lists: members and invitations, rows that follow their list's owner, who wrote a
task and whom it is assigned to.

Task: T-322, T-323
Spec: specs/database/schema.md §tasks plugin; specs/features/sharing.md §Model

Every row of a list (the list, its members, its invitations, its tasks) has the list's owner as
its `user_id`, whoever wrote it: the kernel's access rule reaches it through that owner or through
`list_members`. The keys that tie them to the list (`(list_id, user_id)` to `lists (id,
user_id)`) cascade on update, so handing a list over is one `UPDATE` of `lists.user_id`.

Revision ID: tasks_0006
Revises: tasks_0005
"""

import sqlalchemy as sa
from alembic import context, op

from app.core import owner_column

revision = "tasks_0006"
down_revision = "tasks_0005"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)


def _list_key(table: str) -> None:
    op.create_foreign_key(
        f"{table}_list_id_fkey",
        table,
        "lists",
        ["list_id", "user_id"],
        ["id", "user_id"],
        ondelete="CASCADE",
        onupdate="CASCADE",
    )


# A list's subtree moves to its new list and that list's owner (a move into a list shared by
# someone else changes the tasks' owner with it).
MOVE_SUBTREE = """
CREATE OR REPLACE FUNCTION tasks_move_subtree() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tasks
    SET list_id = NEW.list_id, user_id = NEW.user_id, updated_at = NEW.updated_at,
        updated_by = NEW.updated_by, version = version + 1
    WHERE parent_id = NEW.id AND user_id = OLD.user_id AND list_id IS DISTINCT FROM NEW.list_id;
    RETURN NULL;
END
$$
"""

COMPLETE_SUBTREE = """
CREATE OR REPLACE FUNCTION tasks_complete_subtree() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    WITH RECURSIVE down(id) AS (
        SELECT id FROM tasks WHERE parent_id = NEW.id AND user_id = NEW.user_id
        UNION
        SELECT t.id FROM tasks t JOIN down ON t.parent_id = down.id
        WHERE t.user_id = NEW.user_id
    )
    UPDATE tasks
    SET completed = true, completed_at = NEW.completed_at, updated_at = NEW.updated_at,
        completed_by = NEW.completed_by, updated_by = NEW.updated_by, version = version + 1
    WHERE id IN (SELECT id FROM down) AND user_id = NEW.user_id AND NOT completed;
    RETURN NULL;
END
$$
"""

# An assignee is the list's owner or one of its members: naming anyone else is refused (a
# check_violation of `ck_tasks_assignee`, answered 422); a task moving to a list its assignee
# is not in loses the assignee, as Todoist does.
ASSIGNEE_CHECK = """
CREATE FUNCTION tasks_assignee_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.assignee_id = NEW.user_id OR EXISTS (
        SELECT FROM list_members WHERE list_id = NEW.list_id AND member_id = NEW.assignee_id
    ) THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.assignee_id IS NOT DISTINCT FROM OLD.assignee_id THEN
        NEW.assignee_id := NULL;
        RETURN NEW;
    END IF;
    RAISE check_violation USING CONSTRAINT = 'ck_tasks_assignee', MESSAGE = 'assignee',
        DETAIL = NEW.id;
END
$$
"""

# A member who leaves (or is removed) is no longer anyone's assignee in that list.
UNASSIGN = """
CREATE FUNCTION tasks_unassign_member() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tasks SET assignee_id = NULL, updated_at = now(), version = version + 1
    WHERE list_id = OLD.list_id AND assignee_id = OLD.member_id;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "list_members",
        sa.Column("list_id", sa.Text(), primary_key=True),
        sa.Column(
            "member_id",
            sa.Text(),
            sa.ForeignKey("users.id", ondelete="CASCADE", name="list_members_member_id_fkey"),
            primary_key=True,
        ),
        owner_column("list_members"),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("joined_at", TIMESTAMP, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("role IN ('viewer', 'editor')", name="ck_list_members_role"),
        # The owner is the list's `user_id`, not a member of it.
        sa.CheckConstraint("member_id <> user_id", name="ck_list_members_not_owner"),
    )
    _list_key("list_members")
    # The lists a caller is a member of: every shared read's InitPlan.
    op.create_index("ix_list_members_member", "list_members", ["member_id", "list_id", "role"])
    op.create_table(
        "list_invitations",
        sa.Column("id", sa.Text(), primary_key=True),
        owner_column("list_invitations"),
        sa.Column("list_id", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=True),
        sa.Column("max_uses", sa.Integer(), nullable=True),
        sa.Column("uses", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", TIMESTAMP, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("role IN ('viewer', 'editor')", name="ck_list_invitations_role"),
        sa.CheckConstraint("max_uses IS NULL OR max_uses >= 1", name="ck_list_invitations_uses"),
        sa.UniqueConstraint("token_hash", name="uq_list_invitations_token_hash"),
    )
    _list_key("list_invitations")
    op.create_index("ix_list_invitations_list", "list_invitations", ["list_id", "created_at"])

    # Tasks follow their list's owner when the list is handed over.
    op.drop_constraint("tasks_list_id_fkey", "tasks", type_="foreignkey")
    _list_key("tasks")
    # What a row hanging off a task references, so it follows the task to another list or
    # owner by ON UPDATE CASCADE (recurring_0002: a task's recurrence).
    op.create_unique_constraint("uq_tasks_id_list_user", "tasks", ["id", "list_id", "user_id"])
    for column in ("created_by", "updated_by", "completed_by"):
        op.add_column("tasks", sa.Column(column, sa.Text(), nullable=True))
    op.add_column(
        "tasks",
        sa.Column(
            "assignee_id",
            sa.Text(),
            sa.ForeignKey("users.id", ondelete="SET NULL", name="tasks_assignee_id_fkey"),
            nullable=True,
        ),
    )
    # Before sharing, every task was written by its owner. (Not in the change feed: the triggers
    # are attached after the upgrade, and these columns tell a client nothing new.)
    op.execute("ALTER TABLE tasks DISABLE TRIGGER USER")
    op.execute(
        "UPDATE tasks SET created_by = user_id, updated_by = user_id,"
        " completed_by = CASE WHEN completed THEN user_id END"
    )
    op.execute("ALTER TABLE tasks ENABLE TRIGGER USER")
    op.create_index(
        "ix_tasks_assignee",
        "tasks",
        ["assignee_id", "list_id"],
        postgresql_where=sa.text("assignee_id IS NOT NULL"),
    )
    op.execute(MOVE_SUBTREE)
    op.execute(COMPLETE_SUBTREE)
    op.execute(ASSIGNEE_CHECK)
    op.execute(
        "CREATE TRIGGER tasks_assignee_check BEFORE INSERT OR UPDATE OF assignee_id, list_id"
        " ON tasks FOR EACH ROW WHEN (NEW.assignee_id IS NOT NULL)"
        " EXECUTE FUNCTION tasks_assignee_check()"
    )
    op.execute(UNASSIGN)
    op.execute(
        "CREATE TRIGGER tasks_unassign_member AFTER DELETE ON list_members FOR EACH ROW"
        " EXECUTE FUNCTION tasks_unassign_member()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER tasks_unassign_member ON list_members")
    op.execute("DROP FUNCTION tasks_unassign_member()")
    op.execute("DROP TRIGGER tasks_assignee_check ON tasks")
    op.execute("DROP FUNCTION tasks_assignee_check()")
    op.drop_index("ix_tasks_assignee", "tasks")
    op.drop_constraint("uq_tasks_id_list_user", "tasks", type_="unique")
    for column in ("assignee_id", "completed_by", "updated_by", "created_by"):
        op.drop_column("tasks", column)
    op.drop_constraint("tasks_list_id_fkey", "tasks", type_="foreignkey")
    op.create_foreign_key(
        "tasks_list_id_fkey",
        "tasks",
        "lists",
        ["list_id", "user_id"],
        ["id", "user_id"],
        ondelete="CASCADE",
    )
    op.drop_table("list_invitations")
    op.drop_table("list_members")
    before = context.script.get_revision("tasks_0005").module
    for function in (before.MOVE_SUBTREE, before.COMPLETE_SUBTREE):
        op.execute(function.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"))
