"""Task: T-226
Spec: specs/database/schema.md §tasks plugin

The search function of migration tasks_0003 computes, in linear time, the trigrams tasks_0001's
quadratic one did, so the keys already in `ix_tasks_search` stay right without a REINDEX; and a
batch of 100 tasks with every field at its maximum is created whole and found by search. (Its
speed is `make bench`'s: `bench/batchsize.py`.)
"""

import importlib.util
import random
from pathlib import Path
from types import ModuleType

import pytest

from tests.plugins.tasks.conftest import TASKS, User

VERSIONS = Path(__file__).parents[3] / "app/plugins/tasks/migrations/versions"

TEXTS = [
    "",
    "a",
    "ab",
    "abc",
    "ABCA",
    "aaaaaa",
    "Buy MILK, buy milk",
    "line\nbreak\ttab  two spaces",
    "Crème BRÛLÉE, ΣΑΣ, İstanbul, straße",
    "emoji 🎉🎉 party 👩‍👩‍👧 family",
    "combining e\u0301 accent",
    "100% of_the_bike_light",
    "x" * 1201,
    "".join(random.Random(16).choice("aBc dÉf🎉\n") for _ in range(1201)),
]


def migration(name: str) -> ModuleType:
    """A revision file of the tasks branch, as a module (the versions folder is no package)."""
    spec = importlib.util.spec_from_file_location(name, VERSIONS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
async def quadratic_trigrams(db) -> str:
    """tasks_0001's function, beside the current one under another name."""
    definition = migration("tasks_0003_linear_search_trigrams").QUADRATIC
    await db.execute(definition.replace("tasks_trigrams(", "quadratic_trigrams(", 1))
    return "quadratic_trigrams"


@pytest.mark.parametrize("text", TEXTS, ids=range(len(TEXTS)))
async def test_the_linear_function_gives_the_trigrams_the_quadratic_one_gave(
    db, quadratic_trigrams: str, text: str
):
    linear, quadratic = await db.fetchrow(
        f"SELECT tasks_trigrams($1), {quadratic_trigrams}($1)", text
    )
    assert set(linear) == set(quadratic)
    assert len(linear) == max(len(text) - 2, 0)  # one a position; GIN drops the repeats


async def test_the_search_index_is_on_the_same_expression(db):
    # The planner matches filters.SEARCH_TRIGRAMS to the index only if it reads the same.
    definition = await db.fetchval("SELECT pg_get_indexdef('ix_tasks_search'::regclass)")
    assert "tasks_trigrams(((title || ' '::text) || COALESCE(description, ''::text)))" in (
        definition
    )
    options = await db.fetchval("SELECT reloptions FROM pg_class WHERE relname = 'ix_tasks_search'")
    assert set(options) == {"fastupdate=on", "gin_pending_list_limit=4096"}


def maximum_task(rng: random.Random, n: int) -> dict:
    def text(length: int) -> str:
        return f"{n:03d}" + "".join(rng.choice("abcdé fghÜ🎉") for _ in range(length - 5)) + "zz"

    return {
        "title": text(200),
        "description": text(1000),
        "tags": [f"{t:02d}{text(48)}" for t in range(20)],
    }


async def test_a_batch_of_100_maximum_size_creates_is_created_and_searchable(alice: User):
    rng = random.Random(9)
    tasks = [maximum_task(rng, n) for n in range(100)]
    response = await alice.post(
        f"{TASKS}/batch", json={"operations": [{"op": "create", "task": t} for t in tasks]}
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [result["status"] for result in results] == [201] * 100
    assert [result["body"]["description"] for result in results] == [
        t["description"] for t in tasks
    ]
    # The description's last characters, upper-cased: only a trigram of the row's very end
    # (and every trigram before it, for the others) narrows the search to it.
    needle = tasks[57]["description"][-12:].upper()
    found = await alice.get(TASKS, params={"q": needle})
    assert [task["id"] for task in found.json()] == [results[57]["body"]["id"]]
