"""Task: T-091, T-457
Spec: specs/features/plugins.md §Database

The compiled-statement cache: compiled once, bounded, the least recently used out first.
"""

from sqlalchemy import column, select, table

from app.core.db.statements import CompiledCache

THINGS = table("things", column("id"))


def counting() -> tuple[CompiledCache, list[object]]:
    prepared: list[object] = []

    def prepare(statement):  # what the cache calls once per compilation
        prepared.append(statement)
        return statement

    return CompiledCache(prepare, size=3), prepared


def test_a_statement_is_compiled_once():
    cache, prepared = counting()
    statement = select(THINGS.c.id).where(THINGS.c.id == 1)
    first = cache.get(statement)
    assert cache.get(statement) is first
    assert prepared == [statement]
    assert first.sql.startswith("SELECT things.id")


def test_a_statement_in_use_outlives_ones_built_per_request():
    cache, prepared = counting()
    hot = select(THINGS.c.id)
    cache.get(hot)
    kept = []
    for n in range(10):  # a new statement each time, the hot one used between them
        kept.append(select(THINGS.c.id).where(THINGS.c.id == n))
        cache.get(kept[-1])
        cache.get(hot)
    assert prepared.count(hot) == 1
    assert len(prepared) == 11


def test_the_cache_is_bounded():
    cache, prepared = counting()
    statements = [select(THINGS.c.id).limit(n) for n in range(5)]
    for statement in statements:
        cache.get(statement)
    cache.get(statements[0])  # pushed out by the three after it: compiled again
    assert prepared.count(statements[0]) == 2
