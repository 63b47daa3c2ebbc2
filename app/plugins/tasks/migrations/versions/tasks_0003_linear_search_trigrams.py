"""The search function in linear time, and the search index's pending list set explicitly.

Task: T-226
Spec: specs/database/schema.md §tasks plugin

`tasks_trigrams` took `substr(lowered, i, 3)` for every position, and the planner, flattening
the subquery, put `lower(value)` itself there: each of a 1,201-character text's 1,199 trigrams
lowered the whole text again, and `substr` counts characters from the start of a UTF-8 text
each time. Quadratic: about 10 ms a maximum-size row on an idle core, 40 ms on a busy one, where
all the rest of a create costs well under 1 ms. Now the text is lowered and split into characters
once, and the trigrams are the characters zipped with the same array shifted by one and by two
(`unnest` of three arrays walks them side by side): linear, 0.45 ms a maximum-size row.

No `DISTINCT` any more: GIN sorts and de-duplicates a row's keys itself, and `@>` compares sets,
so a repeated trigram changes nothing, while sorting them in SQL cost as much as the rest.

The function returns, for every text, the same trigrams as before (each lowered character
triple, `{}` under three characters), so the keys already in `ix_tasks_search` are the ones the
new function computes: no REINDEX, which would block writes on the table for as long as it
runs. `tests/plugins/tasks/test_search_trigrams.py` checks the two agree.

The index keeps GIN's fast update with a 4 MiB pending list, now set on the index rather than
left to the server's `gin_pending_list_limit`: inserted rows' keys are appended to the list and
merged into the index in bulk when it fills (or by VACUUM), so a trigram shared by many new rows
is written once. Measured on 23,000 rows, 100 maximum-size rows a batch: inserting straight into
the index (`fastupdate = off`) took 0.9-1.5 s a batch; with the 4 MiB list 0.12-0.75 s (a merge
every other batch), smaller lists did worse (1 MiB: 0.32-0.65 s; 256 KiB: 0.47-0.82 s).

Revision ID: tasks_0003
Revises: tasks_0002
"""

from alembic import op

revision = "tasks_0003"
down_revision = "tasks_0002"
branch_labels = None
depends_on = None

LINEAR = """
CREATE OR REPLACE FUNCTION tasks_trigrams(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT coalesce(array_agg(a || b || c), '{}')
    FROM (SELECT string_to_array(lower(value), NULL) AS ch OFFSET 0) AS v,
        unnest(ch, ch[2:], ch[3:]) AS t(a, b, c)
    WHERE c IS NOT NULL
$$
"""
QUADRATIC = """
CREATE OR REPLACE FUNCTION tasks_trigrams(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT coalesce(array_agg(DISTINCT substr(lowered, i, 3)), '{}')
    FROM (SELECT lower(value) AS lowered) AS v, generate_series(1, length(lowered) - 2) AS i
$$
"""


def upgrade() -> None:
    op.execute(LINEAR)
    op.execute("ALTER INDEX ix_tasks_search SET (fastupdate = on, gin_pending_list_limit = 4096)")


def downgrade() -> None:
    op.execute("ALTER INDEX ix_tasks_search RESET (fastupdate, gin_pending_list_limit)")
    op.execute(QUADRATIC)
