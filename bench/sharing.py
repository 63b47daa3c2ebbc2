"""Task: T-347
Spec: specs/features/sharing.md §The feed

Shared lists in `make bench`: listing a shared list's tasks as a member beside the owner
listing a list of their own of the same size (target 1.2x), and a write to a list with 50
members beside a private write (target 2x), through the API and as the statement's time at the
database. The feed's fan-out is measured beside its alternative, reading through membership:
each member's feed read either way, on the same log.

`python -m bench.sharing` runs this part alone, on its own server and database.
"""

import asyncio
import statistics
import time
from collections.abc import Awaitable

import asyncpg
import httpx

TASKS = "/api/v1/tasks"
LISTS = "/api/v1/lists"
MEMBERS = 50
LIST_TASKS = 200
WRITES = 300

# The alternative to one change per member: one change per write, with the row's container,
# and a member's feed read as (their own changes UNION ALL the changes of the lists they are a
# member of), each arm an index range scan after the cursor, merged in log order.
ALTERNATIVE = """
CREATE TABLE changes_by_container AS
    SELECT DISTINCT ON (xid, seq) c.*, c.data ->> 'list_id' AS container FROM changes c;
CREATE INDEX ON changes_by_container (user_id, xid, seq);
CREATE INDEX ON changes_by_container (container, xid, seq);
ANALYZE changes_by_container
"""
THROUGH_MEMBERSHIP = """
SELECT * FROM (
    SELECT xid, seq, entity, entity_id, op, version, data, at FROM changes_by_container
    WHERE user_id = $1 AND (xid, seq) > ($2, 0)
    UNION ALL
    SELECT xid, seq, entity, entity_id, op, version, data, at FROM changes_by_container
    WHERE container = ANY(ARRAY(SELECT list_id FROM list_members WHERE member_id = $1))
      AND user_id <> $1 AND (xid, seq) > ($2, 0)
) page ORDER BY xid, seq LIMIT 100
"""
FANNED_OUT = """
SELECT xid, seq, entity, entity_id, op, version, data, at FROM changes
WHERE user_id = $1 AND (xid, seq) > ($2, 0) ORDER BY xid, seq LIMIT 100
"""


async def members(dsn: str, owner: str, member: str, list_id: str, count: int) -> None:
    """`member` and `count - 1` more users (made here) as editors of `list_id`."""
    connection = await asyncpg.connect(dsn)
    try:
        others = [f"sharing-{n}" for n in range(count - 1)]
        await connection.executemany(
            "INSERT INTO users (id, issuer, email) VALUES ($1, 'bench', $1 || '@example.com')",
            [(user_id,) for user_id in others],
        )
        await connection.executemany(
            "INSERT INTO list_members (list_id, user_id, member_id, role) VALUES ($1, $2, $3,"
            " 'editor')",
            [(list_id, owner, user_id) for user_id in [member, *others]],
        )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def statement_ms(dsn: str, task_ids: list[str]) -> float:
    """The median time of an UPDATE of one of `task_ids` at the database (a local socket)."""
    connection = await asyncpg.connect(dsn)
    try:
        update = await connection.prepare(
            "UPDATE tasks SET title = $2, version = version + 1 WHERE id = $1"
        )
        timings = []
        for n in range(WRITES):
            started = time.perf_counter()
            await update.fetch(task_ids[n % len(task_ids)], f"t{n}")
            timings.append(time.perf_counter() - started)
        return statistics.median(timings[10:]) * 1000
    finally:
        await connection.close()


async def read_ms(dsn: str, query: str, user_id: str, after: int) -> float:
    connection = await asyncpg.connect(dsn)
    try:
        prepared = await connection.prepare(query)
        timings = []
        for _ in range(WRITES):
            started = time.perf_counter()
            await prepared.fetch(user_id, after)
            timings.append(time.perf_counter() - started)
        return statistics.median(timings[10:]) * 1000
    finally:
        await connection.close()


async def measure(
    base: str, dsn: str, owner: tuple[str, dict[str, str]], member: tuple[str, dict[str, str]]
) -> None:
    from bench.__main__ import Request, compare

    (owner_id, owner_auth), (member_id, member_auth) = owner, member
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        lists = [
            (await client.post(LISTS, json={"name": name}, headers=owner_auth)).json()["id"]
            for name in ("shared", "private")
        ]
        body = {"operations": [{"op": "create", "task": {"title": "t"}}] * 100}
        ids: dict[str, list[str]] = {}
        for list_id in lists:
            for _ in range(LIST_TASKS // 100):
                operations = [
                    {"op": "create", "task": {"title": "t", "list_id": list_id}}
                    for _ in body["operations"]
                ]
                made = await client.post(
                    f"{TASKS}/batch", json={"operations": operations}, headers=owner_auth
                )
                made.raise_for_status()
                ids.setdefault(list_id, []).extend(
                    result["body"]["id"] for result in made.json()["results"]
                )
    shared, private = lists
    await members(dsn, owner_id, member_id, shared, MEMBERS)
    print(f"\nshared lists: {MEMBERS} members, {LIST_TASKS} tasks a list")
    print(f"{'scenario':<28} {'req/s':>9} {'median ms':>10} {'p99 ms':>10}")
    seconds, concurrency = 3.0, 8

    def page(list_id: str, auth: dict[str, str]) -> Request:
        return lambda client: client.get(TASKS, params={"list_id": list_id}, headers=auth)

    pages = {
        "list, own list (owner)": page(private, owner_auth),
        "list, shared (member)": page(shared, member_auth),
    }
    medians = await compare(base, pages, seconds, concurrency)
    ratio = medians["list, shared (member)"] / medians["list, own list (owner)"]
    print(f"listing a shared list as a member / one's own: {ratio:.2f}x (target 1.2x)")

    def write(task_ids: list[str]) -> Request:
        def patch(client: httpx.AsyncClient) -> Awaitable[httpx.Response]:
            task_id = task_ids[int(time.perf_counter() * 1e6) % len(task_ids)]
            return client.patch(
                f"{TASKS}/{task_id}", json={"title": f"r{time.perf_counter()}"}, headers=owner_auth
            )

        return patch

    writes = {"PATCH, private list": write(ids[private]), "PATCH, 50 members": write(ids[shared])}
    medians |= await compare(base, writes, seconds, concurrency)
    ratio = medians["PATCH, 50 members"] / medians["PATCH, private list"]
    print(f"a write to a list with {MEMBERS} members / a private write: {ratio:.2f}x (target 2x)")
    private_ms = await statement_ms(dsn, ids[private])
    shared_ms = await statement_ms(dsn, ids[shared])
    print(
        f"at the database, an UPDATE: private {private_ms:.3f} ms, {MEMBERS} members"
        f" {shared_ms:.3f} ms ({shared_ms / private_ms:.2f}x; one change row each: 1 and"
        f" {MEMBERS + 1})"
    )
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(ALTERNATIVE)
        # A member who last read before the list's latest writes: the last 100 of them.
        after = await connection.fetchval(
            "SELECT min(xid) FROM (SELECT xid FROM changes WHERE user_id = $1"
            " ORDER BY xid DESC LIMIT 100) latest",
            member_id,
        )
    finally:
        await connection.close()
    fanned = await read_ms(dsn, FANNED_OUT, member_id, after)
    through = await read_ms(dsn, THROUGH_MEMBERSHIP, member_id, after)
    print(
        f"a member's feed page of 100 at the database: one change per member {fanned:.3f} ms,"
        f" reading through membership {through:.3f} ms ({through / fanned:.2f}x)"
    )


async def alone() -> None:
    from bench.__main__ import running

    async with running("todo-bench-sharing-") as project:
        await measure(
            project.base,
            project.dsn,
            (project.small.id, project.small.headers),
            (project.big.id, project.big.headers),
        )


if __name__ == "__main__":
    asyncio.run(alone())
