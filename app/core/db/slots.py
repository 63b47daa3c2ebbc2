"""Task: T-214
Spec: specs/api/rest-endpoints.md §Limits

"At most N" that holds however many requests race, on every instance, in the one statement of
the write: a counter row per parent (a task's reminders, a user's webhook endpoints) that the
write moves by one, under the limit, before it inserts.

Why a counter, not a count: in READ COMMITTED a statement sees the snapshot taken when it
started, so a `count(*)` of the children, even one taken after waiting on a lock on the
parent (`FOR UPDATE`, an advisory lock) in the same statement, still misses the children that
the lock's previous holder committed meanwhile, and both writes pass the check. An
`INSERT … ON CONFLICT DO UPDATE … WHERE used < :limit` instead locks the counter row and checks
its latest committed version (not the snapshot's), so racing writes take their slots one after
another: the (N+1)th finds `used = N` and updates nothing.

A plugin keeps the counter beside the rows it counts: `take_slot` in the statement that inserts one,
`free_slot` in the one that deletes one (a deleted parent takes its counter with it, by a
foreign key ON DELETE CASCADE).
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import CTE, ColumnElement, Select, Table, Update, literal, update
from sqlalchemy.dialects.postgresql import insert

USED = "used"


def take_slot(
    counter: Table, key: Sequence[str], source: Select[Any], limit: Any, name: str
) -> CTE:
    """A CTE that takes one slot of the parent `source` selects (its `key` values, in order;
    none when the key is the owner the kernel stamps), and returns the key only if one was
    free. No row selected, no slot taken."""
    used = counter.c[USED]
    statement = (
        insert(counter)
        .from_select([*key, USED], source.add_columns(literal(1)))
        .on_conflict_do_update(
            index_elements=list(counter.primary_key.columns),
            set_={USED: used + 1},
            where=used < limit,
        )
        .returning(*counter.primary_key.columns)
    )
    return statement.cte(name)


def free_slot(counter: Table, freed: ColumnElement[bool]) -> Update:
    """One slot back to each counter `freed` selects (the parents of the rows just deleted)."""
    return update(counter).where(freed).values({USED: counter.c[USED] - 1})
