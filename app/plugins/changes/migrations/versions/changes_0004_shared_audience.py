"""A change to a shared row reaches every member's feed: the trigger writes one change per
person who can see the row (its owner and the members of its container), wakes each of them,
and a membership's insert or delete writes the container's rows into the joiner's or leaver's
feed (`create`s, or tombstones).

Task: T-340, T-341
Spec: specs/features/sharing.md §The feed; specs/database/schema.md §changes plugin

Revision ID: changes_0004
Revises: changes_0003
"""

from alembic import op

revision = "changes_0004"
down_revision = "changes_0003"
branch_labels = None
depends_on = None

# The arguments come from the models' declarations (`app.plugins.changes.triggers`): the
# primary key column; for a `Shared` table also its container column and its membership's
# table, container column and member column. The audience is read with EXECUTE (the membership
# table's name is an argument); only a shared row pays for it.
#
# When a row moves to another container or owner, the people who saw it before and no longer
# do get a tombstone, and those who see it only now get it as a `create`.
RECORD = """
CREATE OR REPLACE FUNCTION changes_record() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    entry jsonb;
    before jsonb;
    audience text[];
    previous text[] := '{}';
    members text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        entry := to_jsonb(OLD);
    ELSE
        entry := to_jsonb(NEW);
    END IF;
    -- (A membership table gone, its plugin's branch downgraded: the rows are private again.)
    IF TG_NARGS = 1 OR to_regclass(TG_ARGV[2]) IS NULL THEN
        INSERT INTO changes (xid, user_id, entity, entity_id, op, version, data)
        VALUES (
            pg_current_xact_id()::text::bigint,
            entry ->> 'user_id',
            TG_TABLE_NAME,
            entry ->> TG_ARGV[0],
            CASE TG_OP WHEN 'INSERT' THEN 'create' WHEN 'UPDATE' THEN 'update' ELSE 'delete' END,
            (entry ->> 'version')::integer,
            CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE entry END
        );
        PERFORM pg_notify('todo_api_changes', entry ->> 'user_id');
        RETURN NULL;
    END IF;
    members := format('SELECT coalesce(array_agg(%I), ''{}'') FROM %s WHERE %I = $1',
                      TG_ARGV[4], TG_ARGV[2], TG_ARGV[3]);
    EXECUTE members INTO audience USING entry ->> TG_ARGV[1];
    audience := (entry ->> 'user_id') || audience;
    IF TG_OP = 'UPDATE' THEN
        before := to_jsonb(OLD);
        IF before ->> TG_ARGV[1] IS DISTINCT FROM entry ->> TG_ARGV[1] THEN
            EXECUTE members INTO previous USING before ->> TG_ARGV[1];
            previous := (before ->> 'user_id') || previous;
        ELSIF before ->> 'user_id' = ANY(audience) THEN
            previous := audience;
        ELSE  -- handed over: the old owner, if no longer a member, loses it
            previous := (before ->> 'user_id') || audience;
        END IF;
    END IF;
    INSERT INTO changes (xid, user_id, entity, entity_id, op, version, data)
    SELECT
        pg_current_xact_id()::text::bigint,
        person,
        TG_TABLE_NAME,
        entry ->> TG_ARGV[0],
        CASE
            WHEN TG_OP = 'INSERT' THEN 'create'
            WHEN TG_OP = 'DELETE' OR NOT person = ANY(audience) THEN 'delete'
            WHEN person = ANY(previous) THEN 'update'
            ELSE 'create'
        END,
        (entry ->> 'version')::integer,
        CASE WHEN TG_OP = 'DELETE' OR NOT person = ANY(audience) THEN NULL ELSE entry END
    FROM unnest(audience || ARRAY(SELECT unnest(previous) EXCEPT SELECT unnest(audience)))
        WITH ORDINALITY AS people(person, n)
    ORDER BY n;
    PERFORM pg_notify('todo_api_changes', person)
    FROM unnest(audience || previous) AS people(person);
    RETURN NULL;
END
$$
"""

# The rows of one container, written into one person's feed: as `create`s (they joined) or as
# tombstones (they left, or the container is being deleted). `tables` holds, for each shared
# table reached through the membership (the container's own table first), its name, container
# column and primary key column.
SHARE = """
CREATE OR REPLACE FUNCTION changes_share(
    person text, owner text, container text, joined boolean, tables text[]
) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    i integer := 1;
BEGIN
    WHILE i < array_length(tables, 1) LOOP
        EXECUTE format(
            'INSERT INTO changes (xid, user_id, entity, entity_id, op, version, data)'
            ' SELECT pg_current_xact_id()::text::bigint, $1, %L, (to_jsonb(t) ->> %L), $2,'
            ' (to_jsonb(t) ->> ''version'')::integer, CASE WHEN $3 THEN to_jsonb(t) END'
            ' FROM %s t WHERE t.%I = $4 AND t.user_id = $5 ORDER BY t.%I',
            tables[i], tables[i + 2], tables[i], tables[i + 1], tables[i + 2])
            USING person, CASE WHEN joined THEN 'create' ELSE 'delete' END, joined, container,
                  owner;
        i := i + 3;
    END LOOP;
    PERFORM pg_notify('todo_api_changes', person);
END
$$
"""

# On a membership table, after INSERT: the joiner gets the container's rows as `create`s;
# after DELETE: the leaver gets tombstones for them, unless the container is gone (its own
# trigger below gave every member theirs while its rows were still there) or the leaver owns
# it now (a transfer made them its owner in the same statement). Arguments: the membership's
# container and member columns, then `changes_share`'s `tables`.
MEMBERSHIP = """
CREATE OR REPLACE FUNCTION changes_membership() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    entry jsonb;
    owner text;
    joined boolean := TG_OP = 'INSERT';
BEGIN
    IF joined THEN
        entry := to_jsonb(NEW);
    ELSE
        entry := to_jsonb(OLD);
        EXECUTE format('SELECT user_id FROM %s WHERE %I = $1', TG_ARGV[2], TG_ARGV[3])
            INTO owner USING entry ->> TG_ARGV[0];
        IF owner IS NULL OR owner = entry ->> TG_ARGV[1] THEN
            RETURN NULL;
        END IF;
    END IF;
    PERFORM changes_share(entry ->> TG_ARGV[1], entry ->> 'user_id', entry ->> TG_ARGV[0],
                          joined, TG_ARGV[2:]);
    RETURN NULL;
END
$$
"""

# On a container's table, before DELETE: every member gets tombstones for the container's rows
# while they are still there (the delete's cascade removes the memberships and the rows, and
# a row's own tombstone then reaches only the owner). Arguments: the membership's table,
# container and member columns, then `changes_share`'s `tables`.
CONTAINER = """
CREATE OR REPLACE FUNCTION changes_container_gone() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    entry jsonb := to_jsonb(OLD);
    member text;
BEGIN
    IF to_regclass(TG_ARGV[0]) IS NULL THEN
        RETURN OLD;
    END IF;
    FOR member IN EXECUTE format('SELECT %I FROM %s WHERE %I = $1',
                                 TG_ARGV[2], TG_ARGV[0], TG_ARGV[1])
        USING entry ->> TG_ARGV[4]
    LOOP
        PERFORM changes_share(member, entry ->> 'user_id', entry ->> TG_ARGV[4], false,
                              TG_ARGV[3:]);
    END LOOP;
    RETURN OLD;
END
$$
"""


def upgrade() -> None:
    for function in (RECORD, SHARE, MEMBERSHIP, CONTAINER):
        op.execute(function)


def downgrade() -> None:
    from alembic import context

    op.execute("DROP FUNCTION changes_container_gone() CASCADE")
    op.execute("DROP FUNCTION changes_membership() CASCADE")
    op.execute("DROP FUNCTION changes_share(text, text, text, boolean, text[])")
    before = context.script.get_revision("changes_0001").module
    op.execute(before.RECORD.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"))
