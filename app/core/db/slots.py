"""Task: T-214
Spec: specs/api/rest-endpoints.md §Limits

"At most N" that holds however many requests race, in the one statement of the write: a counter row per parent.
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
