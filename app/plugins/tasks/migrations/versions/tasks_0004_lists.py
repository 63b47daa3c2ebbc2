"""Lists, tasks in lists and manual order: the lists table, tasks.list_id and tasks.position,
and the position function every create and move computes its key with.

Task: T-280
Spec: specs/database/schema.md §tasks plugin; specs/api/rest-endpoints.md §Order

Every owner of a task gets their default list (its id derived from theirs, as the API derives
it), and their tasks go into it, ordered as they were created. Updating the tasks fires the
change log's triggers where they are attached: each task is in the feed once more, with its
`list_id` and `position` (same `version`: nothing a client set has changed).

Revision ID: tasks_0004
Revises: tasks_0003
"""

import sqlalchemy as sa
from alembic import op

from app.core import owner_column

revision = "tasks_0004"
down_revision = "tasks_0003"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)
# The id of a user's default list: the API's `default_list_id` computes the same in Python.
DEFAULT_ID = "md5('list:' || user_id)::uuid::text"

# Keys in fractional-indexing's format (the `fractional-indexing` package on PyPI, the
# algorithm Figma and Replicache use): an integer part, whose first letter says how many base-62
# digits follow (a: 1, b: 2 …; A: 1, B: 2 … going down), then a fraction without trailing zeros.
# Base-62 digits in ASCII order, so keys compare as text under collation "C". In SQL because a
# move or a create computes its key from neighbours it reads in the same statement.
FUNCTIONS = r"""
CREATE FUNCTION position_midpoint(a text, b text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    digits CONSTANT text := '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    prefix text := '';
    n int;
    da int;
    db int;
BEGIN
    LOOP
        IF b IS NOT NULL THEN
            n := 0;
            WHILE n < length(b)
                AND coalesce(nullif(substr(a, n + 1, 1), ''), '0') = substr(b, n + 1, 1) LOOP
                n := n + 1;
            END LOOP;
            prefix := prefix || left(b, n);
            a := substr(a, n + 1);
            b := substr(b, n + 1);
        END IF;
        da := CASE WHEN a = '' THEN 0 ELSE strpos(digits, left(a, 1)) - 1 END;
        db := CASE WHEN b IS NULL THEN 62 ELSE strpos(digits, left(b, 1)) - 1 END;
        IF db - da > 1 THEN
            RETURN prefix || substr(digits, (da + db + 1) / 2 + 1, 1);
        END IF;
        IF b IS NOT NULL AND length(b) > 1 THEN
            RETURN prefix || left(b, 1);
        END IF;
        prefix := prefix || substr(digits, da + 1, 1);
        a := substr(a, 2);
        b := NULL;
    END LOOP;
END $$;

CREATE FUNCTION position_integer(key text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT left(key, CASE WHEN left(key, 1) COLLATE "C" >= 'a'
                          THEN ascii(left(key, 1)) - ascii('a') + 2
                          ELSE ascii('Z') - ascii(left(key, 1)) + 2 END)
$$;

-- The integer after (step 1) or before (step -1) `x`; NULL past the last or first one.
CREATE FUNCTION position_step(x text, step int) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    digits CONSTANT text := '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    head text := left(x, 1);
    digs text := substr(x, 2);
    i int := length(digs);
    d int;
BEGIN
    WHILE i >= 1 LOOP
        d := strpos(digits, substr(digs, i, 1)) - 1 + step;
        IF d BETWEEN 0 AND 61 THEN
            RETURN head || overlay(digs PLACING substr(digits, d + 1, 1) FROM i FOR 1);
        END IF;
        digs := overlay(digs PLACING CASE WHEN step > 0 THEN '0' ELSE 'z' END FROM i FOR 1);
        i := i - 1;
    END LOOP;
    IF step > 0 THEN
        IF head = 'Z' THEN RETURN 'a0'; END IF;
        IF head = 'z' THEN RETURN NULL; END IF;
        head := chr(ascii(head) + 1);
        RETURN head || CASE WHEN head COLLATE "C" > 'a' THEN digs || '0' ELSE left(digs, -1) END;
    END IF;
    IF head = 'a' THEN RETURN 'Zz'; END IF;
    IF head = 'A' THEN RETURN NULL; END IF;
    head := chr(ascii(head) - 1);
    RETURN head || CASE WHEN head COLLATE "C" < 'Z' THEN digs || 'z' ELSE left(digs, -1) END;
END $$;

-- fractional-indexing's generateKeyBetween(a, b) (NULL: the start or the end), but between two
-- keys of different lengths it takes the shortest key one step from the longer one rather than
-- the midpoint: the longer is usually the one placed last, so moves to the same spot cost a
-- character per ~60 moves, not per ~6, and a key far from its other neighbour gets short again.
-- NULL when a >= b.
CREATE FUNCTION position_between(a text, b text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    digits CONSTANT text := '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    ia text;
    ib text;
    step text;
    last int;
BEGIN
    IF a IS NULL AND b IS NULL THEN
        RETURN 'a0';
    END IF;
    IF a IS NULL THEN
        ib := position_integer(b);
        IF ib = 'A' || repeat('0', 26) THEN
            RETURN ib || position_midpoint('', substr(b, length(ib) + 1));
        END IF;
        IF ib COLLATE "C" < b THEN RETURN ib; END IF;
        RETURN position_step(ib, -1);
    END IF;
    IF b IS NULL THEN
        ia := position_integer(a);
        step := position_step(ia, 1);
        RETURN coalesce(step, ia || position_midpoint(substr(a, length(ia) + 1), NULL));
    END IF;
    IF a COLLATE "C" >= b THEN
        RETURN NULL;
    END IF;
    IF length(a) > length(b) THEN
        -- The shortest key a step above a prefix of a (its integer part at least) below b.
        FOR n IN length(position_integer(a))..length(a) LOOP
            last := strpos(digits, substr(a, n, 1)) - 1;
            IF last < 61 THEN
                step := left(a, n - 1) || substr(digits, last + 2, 1);
                IF step COLLATE "C" < b THEN RETURN step; END IF;
            END IF;
        END LOOP;
        RETURN a || '1';
    END IF;
    IF length(b) > length(a) THEN
        -- The shortest prefix of b above a (a fraction never ends in 0), else a step below b.
        FOR n IN length(position_integer(b))..length(b) - 1 LOOP
            step := left(b, n);
            IF step COLLATE "C" > a AND (n = length(position_integer(b)) OR right(step, 1) <> '0')
            THEN
                RETURN step;
            END IF;
        END LOOP;
        last := strpos(digits, right(b, 1)) - 1;
        IF last >= 1 THEN
            step := left(b, -1) || CASE WHEN last > 1 THEN substr(digits, last, 1) ELSE '0z' END;
            IF step COLLATE "C" > a THEN RETURN step; END IF;
        END IF;
    END IF;
    ia := position_integer(a);
    ib := position_integer(b);
    IF ia = ib THEN
        RETURN ia || position_midpoint(substr(a, length(ia) + 1), substr(b, length(ib) + 1));
    END IF;
    step := position_step(ia, 1);
    IF step COLLATE "C" < b THEN RETURN step; END IF;
    RETURN ia || position_midpoint(substr(a, length(ia) + 1), NULL);
END $$;

-- The n-th key after `a` (NULL: the start) as successive appends make them: a batch's creates
-- at the end of one list, in one statement.
CREATE FUNCTION position_after(a text, n bigint) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    FOR i IN 1..n LOOP
        a := position_between(a, NULL);
    END LOOP;
    RETURN a;
END $$;

-- The n-th integer key from 'a0' (0-based): 'a0' … 'az', 'b00' … 'bzz', 'c000' …, the keys
-- successive appends make, for numbering existing rows at once.
CREATE FUNCTION position_at(n bigint) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    digits CONSTANT text := '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    width int := 1;
    key text := '';
BEGIN
    WHILE n >= 62::numeric ^ width LOOP
        n := n - (62::numeric ^ width)::bigint;
        width := width + 1;
    END LOOP;
    FOR i IN 1..width LOOP
        key := substr(digits, (n % 62)::int + 1, 1) || key;
        n := n / 62;
    END LOOP;
    RETURN chr(ascii('a') + width - 1) || key;
END $$;
"""
# A task inserted without a list or a position (an INSERT written by hand, another plugin's)
# goes at the end of its owner's default list, and a task going into the default list makes
# that list if it is missing: the API's creates stay one plain INSERT, the first one included.
PLACE = f"""
CREATE FUNCTION tasks_place() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    default_id text := {DEFAULT_ID.replace("user_id", "NEW.user_id")};
BEGIN
    NEW.list_id := coalesce(NEW.list_id, default_id);
    IF NEW.list_id = default_id THEN
        INSERT INTO lists (id, user_id, name, position, is_default, created_at, updated_at, version)
        VALUES (default_id, NEW.user_id, 'My Tasks', 'a0', true, now(), now(), 1)
        ON CONFLICT DO NOTHING;
    END IF;
    IF NEW.position IS NULL THEN
        NEW.position := position_between(
            (SELECT max(position) FROM tasks WHERE list_id = NEW.list_id), NULL);
    END IF;
    RETURN NEW;
END $$
"""
PLACE_TRIGGER = f"""
CREATE TRIGGER tasks_place BEFORE INSERT ON tasks FOR EACH ROW
WHEN (NEW.list_id IS NULL OR NEW.position IS NULL
      OR NEW.list_id = {DEFAULT_ID.replace("user_id", "NEW.user_id")})
EXECUTE FUNCTION tasks_place()
"""
DROP_FUNCTIONS = (
    "tasks_place()",
    "position_at(bigint)",
    "position_after(text, bigint)",
    "position_between(text, text)",
    "position_step(text, int)",
    "position_integer(text)",
    "position_midpoint(text, text)",
)


def upgrade() -> None:
    # One function a statement: a prepared statement holds one command.
    for function in FUNCTIONS.split("$$;\n")[:-1]:
        op.execute(function + "$$")
    op.create_table(
        "lists",
        sa.Column("id", sa.Text(), primary_key=True),
        owner_column("lists"),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("position", sa.Text(collation="C"), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", TIMESTAMP, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", TIMESTAMP, nullable=False, server_default=sa.func.now()),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.CheckConstraint("char_length(name) BETWEEN 1 AND 200", name="ck_lists_name_length"),
        sa.CheckConstraint("version >= 1", name="ck_lists_version"),
        # What tasks' (list_id, user_id) key references: a task is in a list of its owner's.
        sa.UniqueConstraint("id", "user_id", name="uq_lists_id_user_id"),
    )
    op.create_index("ix_lists_user_position", "lists", ["user_id", "position", "id"])
    op.create_index(
        "ux_lists_user_default",
        "lists",
        ["user_id"],
        unique=True,
        postgresql_where=sa.text("is_default"),
    )
    op.execute(
        "INSERT INTO lists (id, user_id, name, position, is_default)"
        f" SELECT DISTINCT {DEFAULT_ID}, user_id, 'My Tasks', 'a0', true FROM tasks"
    )
    op.add_column("tasks", sa.Column("list_id", sa.Text(), nullable=True))
    op.add_column("tasks", sa.Column("position", sa.Text(collation="C"), nullable=True))
    op.execute(
        f"UPDATE tasks SET list_id = {DEFAULT_ID}, position = position_at(numbered.n)"
        " FROM (SELECT id, row_number() OVER (PARTITION BY user_id ORDER BY created_at, id) - 1"
        " AS n FROM tasks) AS numbered WHERE tasks.id = numbered.id"
    )
    op.alter_column("tasks", "list_id", nullable=False)
    op.alter_column("tasks", "position", nullable=False)
    op.create_foreign_key(
        "tasks_list_id_fkey",
        "tasks",
        "lists",
        ["list_id", "user_id"],
        ["id", "user_id"],
        ondelete="CASCADE",
    )
    # A list's tasks in manual order, and the lookup deleting a list cascades through.
    op.create_index("ix_tasks_list_position", "tasks", ["list_id", "position", "id"])
    op.execute(PLACE)
    op.execute(PLACE_TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER tasks_place ON tasks")
    op.drop_index("ix_tasks_list_position", table_name="tasks")
    op.drop_constraint("tasks_list_id_fkey", "tasks", type_="foreignkey")
    op.drop_column("tasks", "position")
    op.drop_column("tasks", "list_id")
    op.drop_table("lists")
    for function in DROP_FUNCTIONS:
        op.execute(f"DROP FUNCTION {function}")
