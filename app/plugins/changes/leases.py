"""Task: T-215
Spec: specs/api/rest-endpoints.md §Changes

At most `max_streams_per_user` live change streams per user, on all instances together.

Each open stream holds a lease in its user's row of `stream_leases` (`{stream id: expiry}`),
taken when it opens, renewed while it runs, given back when it closes; the lease of a stream
whose instance died expires, and stops counting, `stream_lease_seconds` later. Taking one is a
single upsert on the user's row: `ON CONFLICT DO UPDATE … WHERE <live leases> < max` locks the
row and judges its latest committed version, so streams opened at once, on any instances,
are let in one after another up to the cap. (A count of lease rows in an INSERT would see only
its statement's starting snapshot, blind to the leases racing opens commit meanwhile.)
Expiry is judged by the database's clock, which every instance shares.
"""

import asyncio
import time
from dataclasses import dataclass, field

from sqlalchemy import Float, Integer, Text, bindparam, func, literal_column, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlmodel import col

from app.core import Executor, new_id
from app.plugins.changes.models import StreamLeases

ID = bindparam("id", type_=Text)
SECONDS = bindparam("seconds", type_=Float)
MAX = bindparam("max", type_=Integer)
_NOW = "extract(epoch FROM now())"
_UNTIL = func.jsonb_build_object(ID, literal_column(_NOW) + SECONDS)
_held = col(StreamLeases.leases).op("->")(ID).is_not(None)
# The leases of the row being updated that have not expired.
_ROW = "stream_leases.leases"
_LIVE = literal_column(
    f"COALESCE((SELECT jsonb_object_agg(key, value) FROM jsonb_each({_ROW})"
    f" WHERE value::float8 > {_NOW}), '{{}}'::jsonb)",
    JSONB,
)
_LIVE_COUNT = literal_column(
    f"(SELECT count(*) FROM jsonb_each({_ROW}) WHERE value::float8 > {_NOW})", Integer
)
# Expired leases are dropped as a new one is added; a retried open (its id held) is let in.
TAKE = (
    insert(StreamLeases)
    .from_select(["leases"], select(_UNTIL))
    .on_conflict_do_update(
        index_elements=[col(StreamLeases.user_id)],
        set_={"leases": _LIVE.op("||")(_UNTIL)},
        where=(_LIVE_COUNT < MAX) | _held,
    )
    .returning(col(StreamLeases.user_id))
)
RENEW = (
    update(StreamLeases)
    .where(_held)
    .values(leases=col(StreamLeases.leases).op("||")(_UNTIL))
    .returning(col(StreamLeases.user_id))
)
RELEASE = update(StreamLeases).where(_held).values(leases=col(StreamLeases.leases).op("-")(ID))


@dataclass
class Lease:
    """One open stream's lease, renewed every third of its life."""

    db: Executor  # scoped to the stream's user
    seconds: float
    id: str = field(default_factory=new_id)
    renewed: float = field(default_factory=time.monotonic)

    def renew_in(self) -> float:
        """Seconds until the lease should be renewed (0: now)."""
        return max(0.0, self.renewed + self.seconds / 3 - time.monotonic())

    async def keep(self) -> bool:
        """Renew the lease if it is time; False when it was lost (expired and dropped, as for
        an instance that stalled longer than the lease): the stream must end."""
        if self.renew_in() > 0:
            return True
        self.renewed = time.monotonic()
        return await self.db.fetchval(RENEW, id=self.id, seconds=self.seconds) is not None

    async def release(self) -> None:
        """Give the slot back. Shielded: a stream ends by its task being cancelled (the client
        left), and the release must still reach the database."""
        await asyncio.shield(self.db.execute(RELEASE, id=self.id))


async def take(db: Executor, seconds: float, most: int) -> Lease | None:
    """A lease for a new stream of `db`'s user, or None when they hold `most` live ones."""
    lease = Lease(db, seconds)
    taken = await db.fetchval(TAKE, id=lease.id, seconds=seconds, max=most)
    return lease if taken is not None else None
