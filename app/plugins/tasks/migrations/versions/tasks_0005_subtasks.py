"""Subtasks: `parent_id`, the tree's rules checked under a per-user lock, subtree completion.

Task: T-290, T-291, T-292, T-303, T-304
Spec: specs/database/schema.md §tasks plugin; specs/api/rest-endpoints.md §Subtasks

`parent_id` references `tasks.id` `ON DELETE CASCADE`: deleting a task deletes its subtree, and
each deleted row fires the change log's row trigger (a tombstone per task).

Two triggers keep the tree's rules inside the writing statement, so no write costs a round
trip more, and only the writes that concern the tree pay for them:

- `tasks_tree_check`, BEFORE a row gets a parent (an INSERT with one, an UPDATE changing it):
  the parent must be the same user's task, not the task itself nor one of its descendants, and
  the deepest task of the moved subtree at most `MAX_DEPTH` levels below the top. It first takes
  a transaction-level advisory lock on the user's tree, then reads with a fresh snapshot
  (PL/pgSQL takes one per statement under READ COMMITTED): two writes that would form a cycle
  together (A under B, B under A, at the same moment) run one after the other, and the second
  sees the first. A check in the write's own SQL could not: its snapshot is taken before any lock
  it asks for. The parent row is locked `FOR KEY SHARE`, so a concurrent delete of it is
  waited for and then seen (no dangling reference, no foreign key error). A refusal is a
  `check_violation` naming the constraint `ck_tasks_parent`, its message the reason (`parent`,
  `cycle`, `depth`), its detail the task's id: the tasks plugin answers a 422 naming `parent_id`.
- `tasks_complete_subtree`, AFTER a row becomes completed: its open descendants are completed
  with it (its `completed_at` and `updated_at`, each its own version bump and change-log
  entry), in the same statement, whatever completed it.

It also gives every user their default list from the start (issue 18's integration): an
`AFTER INSERT` trigger on `users` makes it in the statement that registers the user, and the
users from before without one get theirs here. Made on first need only, two transactions of a
user's first writes would wait on each other's uncommitted default list (its key), the first
held open blocking the second; a list every user has from the start waits for no one, and, as
the change log records no creation of a default list (`change_feed_create_when`), a client
that never heard of lists sees the feed it saw before. A plain `INSERT` of a task (tasks_0004's
`tasks_place`) still makes a missing one.

Revision ID: tasks_0005
Revises: tasks_0004
"""

import sqlalchemy as sa
from alembic import op

revision = "tasks_0005"
down_revision = "tasks_0004"
branch_labels = None
depends_on = None

# A top-level task has depth 0, a subtask its parent's + 1; this is the deepest allowed.
MAX_DEPTH = 4

TREE_CHECK = f"""
CREATE FUNCTION tasks_tree_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    parent_depth integer;
    parent_list text;
    cycle boolean;
    height integer := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('tasks_tree:' || NEW.user_id, 0));
    SELECT list_id INTO parent_list FROM tasks
    WHERE id = NEW.parent_id AND user_id = NEW.user_id FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE check_violation USING CONSTRAINT = 'ck_tasks_parent', MESSAGE = 'parent',
            DETAIL = NEW.id;
    END IF;
    -- A subtask is in its parent's list: a new parent takes the task into its list, unless
    -- the same write names another list (or a create does), which is refused.
    IF NEW.list_id IS DISTINCT FROM parent_list THEN
        IF TG_OP = 'UPDATE' AND NEW.list_id IS NOT DISTINCT FROM OLD.list_id
           AND NEW.parent_id IS DISTINCT FROM OLD.parent_id THEN
            NEW.list_id := parent_list;
        ELSE
            RAISE check_violation USING CONSTRAINT = 'ck_tasks_parent', MESSAGE = 'list',
                DETAIL = NEW.id;
        END IF;
    END IF;
    -- The parent and its ancestors; the walk is bounded, so no stored row can make it loop.
    WITH RECURSIVE up(id, parent_id, depth) AS (
        SELECT id, parent_id, 0 FROM tasks WHERE id = NEW.parent_id AND user_id = NEW.user_id
        UNION ALL
        SELECT t.id, t.parent_id, up.depth + 1
        FROM tasks t JOIN up ON t.id = up.parent_id
        WHERE t.user_id = NEW.user_id AND up.depth <= {MAX_DEPTH}
    )
    SELECT max(depth), bool_or(id = NEW.id) INTO parent_depth, cycle FROM up;
    IF cycle THEN
        RAISE check_violation USING CONSTRAINT = 'ck_tasks_parent', MESSAGE = 'cycle',
            DETAIL = NEW.id;
    END IF;
    IF TG_OP = 'UPDATE' THEN  -- the subtree that moves with it: how many levels below it
        WITH RECURSIVE down(id, level) AS (
            SELECT id, 1 FROM tasks WHERE parent_id = NEW.id AND user_id = NEW.user_id
            UNION ALL
            SELECT t.id, down.level + 1
            FROM tasks t JOIN down ON t.parent_id = down.id
            WHERE t.user_id = NEW.user_id AND down.level <= {MAX_DEPTH}
        )
        SELECT coalesce(max(level), 0) INTO height FROM down;
    END IF;
    IF parent_depth + 1 + height > {MAX_DEPTH} THEN
        RAISE check_violation USING CONSTRAINT = 'ck_tasks_parent', MESSAGE = 'depth',
            DETAIL = NEW.id;
    END IF;
    RETURN NEW;
END
$$
"""

# A task that changes list takes its children along (each its own version and change-log
# entry); their own rows' trigger takes theirs, one level a statement, each seeing its parent
# already moved.
MOVE_SUBTREE = """
CREATE FUNCTION tasks_move_subtree() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tasks
    SET list_id = NEW.list_id, updated_at = NEW.updated_at, version = version + 1
    WHERE parent_id = NEW.id AND user_id = NEW.user_id AND list_id IS DISTINCT FROM NEW.list_id;
    RETURN NULL;
END
$$
"""

COMPLETE_SUBTREE = """
CREATE FUNCTION tasks_complete_subtree() RETURNS trigger
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
        version = version + 1
    WHERE id IN (SELECT id FROM down) AND user_id = NEW.user_id AND NOT completed;
    RETURN NULL;
END
$$
"""


# The default list's id as tasks_0004 (and the API's `default_list_id`) derive it. After the
# tasks branch is dropped (`todo-api drop-orphan` drops its tables, not this trigger), a
# registration must still work: no lists table, nothing to make.
DEFAULT_LIST_AT_SIGN_UP = """
CREATE FUNCTION tasks_default_list() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO lists (id, user_id, name, position, is_default, created_at, updated_at, version)
    VALUES (md5('list:' || NEW.id)::uuid::text, NEW.id, 'My Tasks', 'a0', true, now(), now(), 1)
    ON CONFLICT DO NOTHING;
    RETURN NULL;
EXCEPTION WHEN undefined_table THEN
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.execute(DEFAULT_LIST_AT_SIGN_UP)
    op.execute(
        "CREATE TRIGGER tasks_default_list AFTER INSERT ON users FOR EACH ROW "
        "EXECUTE FUNCTION tasks_default_list()"
    )
    op.execute(
        "INSERT INTO lists (id, user_id, name, position, is_default)"
        " SELECT md5('list:' || id)::uuid::text, id, 'My Tasks', 'a0', true FROM users"
        " ON CONFLICT DO NOTHING"
    )
    op.add_column(
        "tasks",
        sa.Column(
            "parent_id",
            sa.Text(),
            sa.ForeignKey("tasks.id", ondelete="CASCADE", name="tasks_parent_id_fkey"),
            nullable=True,
        ),
    )
    # A task's children (`GET /tasks?parent_id=`, the triggers' walks, the cascade's lookups).
    op.create_index("ix_tasks_parent_position", "tasks", ["parent_id", "position", "id"])
    # A list's page in manual order, scoped to its owner as every statement is: with both keys
    # leading, the ordered index scan wins even under a generic plan, which multiplies the two
    # conditions' selectivities into one row and would otherwise sort the whole list.
    op.create_index(
        "ix_tasks_user_list_position", "tasks", ["user_id", "list_id", "position", "id"]
    )
    op.execute(TREE_CHECK)
    op.execute(
        "CREATE TRIGGER tasks_tree_check_insert BEFORE INSERT ON tasks FOR EACH ROW "
        "WHEN (NEW.parent_id IS NOT NULL) EXECUTE FUNCTION tasks_tree_check()"
    )
    op.execute(
        "CREATE TRIGGER tasks_tree_check_update BEFORE UPDATE OF parent_id, list_id ON tasks "
        "FOR EACH ROW WHEN (NEW.parent_id IS NOT NULL AND (NEW.parent_id IS DISTINCT FROM "
        "OLD.parent_id OR NEW.list_id IS DISTINCT FROM OLD.list_id)) "
        "EXECUTE FUNCTION tasks_tree_check()"
    )
    op.execute(MOVE_SUBTREE)
    # OF parent_id too: a new parent's list is set by the BEFORE trigger, not by the UPDATE.
    op.execute(
        "CREATE TRIGGER tasks_move_subtree AFTER UPDATE OF list_id, parent_id ON tasks "
        "FOR EACH ROW WHEN (NEW.list_id IS DISTINCT FROM OLD.list_id) "
        "EXECUTE FUNCTION tasks_move_subtree()"
    )
    op.execute(COMPLETE_SUBTREE)
    op.execute(
        "CREATE TRIGGER tasks_complete_subtree AFTER UPDATE OF completed ON tasks FOR EACH ROW "
        "WHEN (NEW.completed AND NOT OLD.completed) EXECUTE FUNCTION tasks_complete_subtree()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER tasks_default_list ON users")
    op.execute("DROP FUNCTION tasks_default_list()")
    op.execute("DROP TRIGGER tasks_complete_subtree ON tasks")
    op.execute("DROP TRIGGER tasks_move_subtree ON tasks")
    op.execute("DROP FUNCTION tasks_move_subtree()")
    op.execute("DROP TRIGGER tasks_tree_check_update ON tasks")
    op.execute("DROP TRIGGER tasks_tree_check_insert ON tasks")
    op.execute("DROP FUNCTION tasks_complete_subtree()")
    op.execute("DROP FUNCTION tasks_tree_check()")
    op.drop_index("ix_tasks_user_list_position", "tasks")
    op.drop_index("ix_tasks_parent_position", "tasks")
    op.drop_column("tasks", "parent_id")
