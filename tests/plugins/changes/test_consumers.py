"""Task: T-140
Spec: specs/features/plugins.md §Events

After-commit consumers: fed committed changes from their own cursor, one instance at a time,
again after a crash, and the example plugin's journal.
"""

import asyncio
from collections.abc import Iterator, Sequence
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest

from app.core import Context, Transaction, hookimpl
from app.core.app import create_app
from app.core.plugins.loading import load
from app.core.plugins.plugins_file import PluginsFile
from app.plugins.changes import consumers
from app.plugins.changes.api import AfterCommit, Change
from app.plugins.changes.queries import CONSUMER_START, WATERMARK_SQL
from app.testing import eventually
from app.testing.client import serving
from app.testing.database import settings_for
from app.testing.statements import Statements, counting
from tests.plugins.changes.conftest import QUIET
from tests.plugins.tasks.conftest import TASKS, sign_up


class Recorder:
    """Records the changes it is fed; `hold` keeps it inside its first batch until set, and
    `fail_once` makes its first batch fail."""

    def __init__(self, hold: asyncio.Event | None = None, fail_once: bool = False) -> None:
        self.batches: list[list[tuple[str, str]]] = []
        self.entered = asyncio.Event()
        self._hold = hold
        self._fail = fail_once

    @hookimpl
    def subscriptions(self, context: Context) -> Sequence[AfterCommit]:
        async def record(transaction: Transaction, changes: Sequence[Change]) -> None:
            self.entered.set()
            if self._hold is not None:
                await self._hold.wait()
            if self._fail:
                self._fail = False
                raise RuntimeError("crashed while handling")
            self.batches.append([(change.id, change.op) for change in changes])

        return [AfterCommit("recorder", frozenset({"tasks"}), record)]


async def started(
    stack: AsyncExitStack, url: str, folder: Path, **extra: object
) -> httpx.AsyncClient:
    settings = settings_for(url, folder)
    plugins = PluginsFile(enabled=QUIET, tables={"changes": {"poll_seconds": 0.2}})
    context = load(settings, plugins, extra)
    return await stack.enter_async_context(serving(create_app(settings, context)))


async def consumer_ready(db) -> None:  # type: ignore[no-untyped-def]
    await eventually(
        lambda: db.fetchval("SELECT count(*) FROM change_consumers WHERE name = 'recorder'")
    )


async def test_changes_are_fed_after_commit_once(database_url, tmp_path, db):
    recorder = Recorder()
    async with AsyncExitStack() as stack:
        client = await started(stack, database_url, tmp_path, recorder=recorder)
        await consumer_ready(db)
        user = await sign_up(client)
        task = await user.create(title="fed")
        await user.patch(f"{TASKS}/{task['id']}/complete")
        await eventually(lambda: sum(map(len, recorder.batches)) == 2)
        await asyncio.sleep(0.5)
    assert [c for batch in recorder.batches for c in batch] == [
        (task["id"], "create"),
        (task["id"], "update"),
    ]


async def test_a_failed_batch_is_delivered_again(database_url, tmp_path, db):
    recorder = Recorder(fail_once=True)
    async with AsyncExitStack() as stack:
        client = await started(stack, database_url, tmp_path, recorder=recorder)
        await consumer_ready(db)
        task = await (await sign_up(client)).create(title="again")
        await eventually(lambda: recorder.batches, seconds=10)
    assert recorder.batches == [[(task["id"], "create")]]


async def test_one_instance_at_a_time_and_a_killed_consumer_is_redelivered(
    database_url, tmp_path, db
):
    holding = Recorder(hold=asyncio.Event())  # never let go: this instance gets killed
    other = Recorder()
    async with AsyncExitStack() as outer:
        async with AsyncExitStack() as first:
            client = await started(first, database_url, tmp_path / "a", recorder=holding)
            await consumer_ready(db)
            task = await (await sign_up(client)).create(title="contested")
            async with asyncio.timeout(5):
                await holding.entered.wait()

            # A second instance finds the consumer taken and leaves the batch alone.
            second = await started(outer, database_url, tmp_path / "b", recorder=other)
            app = second._transport.app  # type: ignore[attr-defined]
            (consumer,) = app.state.context.state["changes"].consumers
            assert (await consumers.step(app.state.database, consumer)).handled == 0
            await asyncio.sleep(0.5)
            assert other.batches == []
        # The first instance stopped mid-batch (its transaction rolled back): the second one
        # is fed the same change.
        await eventually(lambda: other.batches)
        assert other.batches == [[(task["id"], "create")]]
        assert holding.batches == []
        # The handler has seen the batch; its cursor commits just after it returns (stopping
        # the app before then would roll it back, and the change would come again: at least
        # once). Past the change, up to the watermark if later:
        last = await db.fetchrow("SELECT xid, seq FROM changes ORDER BY xid DESC, seq DESC LIMIT 1")

        async def past_the_change() -> bool:
            position = await db.fetchrow(
                "SELECT xid, seq FROM change_consumers WHERE name = 'recorder'"
            )
            return tuple(position) >= tuple(last)

        await eventually(past_the_change)


async def test_the_notes_example_journals_completed_tasks(make_client):
    client = await make_client(enabled=(*QUIET, "notes"), tables={"changes": {"poll_seconds": 0.2}})
    user = await sign_up(client)
    task = await user.create(title="write the report")
    await user.patch(f"{TASKS}/{task['id']}", json={"title": "write the final report"})
    await user.patch(f"{TASKS}/{task['id']}/complete")

    async def journal() -> list[str]:
        return [note["body"] for note in (await user.get("/api/v1/notes")).json()]

    await eventually(journal, seconds=10)
    assert await journal() == ["Completed: write the final report"]


async def test_a_consumer_moves_past_changes_it_ignores(alice, database, db):
    handled: list[Change] = []

    async def handle(transaction: Transaction, changes: Sequence[Change]) -> None:
        handled.extend(changes)

    quiet = AfterCommit("quiet", frozenset({"notes"}), handle)
    await database.execute(CONSUMER_START, name="quiet")
    for number in range(3):
        await alice.create(title=f"ignored {number}")
    last = await db.fetchval("SELECT max(xid) FROM changes")
    await eventually(lambda: db.fetchval(f"SELECT {WATERMARK_SQL} > {last}"))
    await consumers.step(database, quiet)
    position = await db.fetchval("SELECT xid FROM change_consumers WHERE name = 'quiet'")
    # The next read starts after the tasks' changes, not among them again.
    assert position > last
    assert handled == []


@pytest.fixture
def sent() -> Iterator[Statements]:
    """Every statement sent, the app's background work's included: here it is the point."""
    with counting(everything=True) as statements:
        yield statements


async def test_an_idle_consumer_sends_nothing_until_woken(database_url, tmp_path, db, sent):
    recorder = Recorder()
    async with AsyncExitStack() as stack:
        client = await started(stack, database_url, tmp_path, recorder=recorder)
        await consumer_ready(db)
        await asyncio.sleep(0.5)  # the first look after start-up
        sent.clear()
        await asyncio.sleep(2)  # ten of its poll_seconds
        assert not [statement for statement in sent if "change_consumers" in statement]
        task = await (await sign_up(client)).create(title="wakes it")
        await eventually(lambda: recorder.batches)
    assert recorder.batches == [[(task["id"], "create")]]
