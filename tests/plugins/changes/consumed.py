"""Task: T-135
Spec: specs/features/plugins.md §Events

`consumed`: wait until an after-commit consumer has handled every committed change of its
entities, for a test whose next check must not race the consumer's writes.
"""

from collections.abc import Collection

import asyncpg

from app.testing import eventually

# The consumer's cursor is past every change of its entities (a consumer that has not started
# has no cursor yet: not caught up).
CAUGHT_UP = """
SELECT EXISTS (
    SELECT FROM change_consumers AS k
    WHERE k.name = $1 AND NOT EXISTS (
        SELECT FROM changes AS c WHERE c.entity = ANY($2::text[]) AND (c.xid, c.seq) > (k.xid, k.seq)
    )
)
"""


async def consumed(
    db: "asyncpg.Connection[asyncpg.Record]", name: str, entities: Collection[str]
) -> None:
    await eventually(lambda: db.fetchval(CAUGHT_UP, name, list(entities)))
