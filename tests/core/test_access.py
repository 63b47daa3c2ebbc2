"""Task: T-458
Spec: specs/features/plugins.md §Isolation

The kernel's seam for shared rows: an `Owned` table's `info["access"]` is asked, while a
statement is scoped, for the condition a row meets, the owner of a row written and a page's
form, and what it answers is what the statement says. A table without one is its owner's alone.
The tasks plugin's `Shared` is one such `Access`; here a probe stands in for it on the tasks
table, so what is checked is the kernel's side alone.
"""

from typing import Any

import pytest
from sqlalchemy import delete, insert, literal, literal_column, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.selectable import FromClause, Select

from app.core import Access, Need
from app.core.db.ownership import scope
from app.plugins.tasks.api import LIST_MEMBERS, Task
from app.plugins.tasks.models import IdempotencyKey

TASKS = Task.__table__  # type: ignore[attr-defined]
KEYS = IdempotencyKey.__table__  # type: ignore[attr-defined]


class Probe:
    """An `Access` that says who it was asked by, in SQL the test can find."""

    membership = LIST_MEMBERS
    column = "list_id"

    def __init__(self, paged: bool = False) -> None:
        self.needs: list[Need] = []
        self.paged = paged

    def rule(self, table: FromClause, need: Need) -> Any:
        self.needs.append(need)
        return literal_column("'probe rule'") == literal_column("'probe rule'")

    def owner(self, table: FromClause, values: dict[str, Any], need: Need) -> Any:
        return literal_column("'owner of the list'") if self.column in values else None

    def page(self, statement: Select[Any], table: Any, need: Need) -> Select[Any] | None:
        return select(literal_column("'a page'")) if self.paged else None


@pytest.fixture
def probe(monkeypatch: pytest.MonkeyPatch) -> Probe:
    found = Probe()
    access: Access = found
    monkeypatch.setitem(TASKS.info, "access", access)
    return found


def sql(statement: ClauseElement, role: str | None = None) -> str:
    return str(scope(statement, role).compile(dialect=postgresql.dialect()))


def test_a_table_without_access_is_its_owners_alone():
    assert "task_idempotency_keys.user_id = %(todo_api_owner)s" in sql(select(KEYS.c.key))


def test_each_statement_says_what_it_needs(probe: Probe):
    for statement in (select(TASKS.c.id), update(TASKS).values(title="x"), delete(TASKS)):
        assert "'probe rule' = 'probe rule'" in sql(statement, "editor")
        assert "tasks.user_id =" not in sql(statement)
    assert probe.needs[::2] == [
        Need(write=False, role="editor"),
        Need(write=True, role="editor"),
        Need(write=True, role="editor", delete=True),
    ]


def test_an_outer_join_is_scoped_in_its_on_clause(probe: Probe):
    joined = select(KEYS.c.key).outerjoin(TASKS, TASKS.c.user_id == KEYS.c.user_id)
    assert "ON tasks.user_id = task_idempotency_keys.user_id AND 'probe rule'" in sql(joined)


def test_a_write_into_a_container_gets_the_owner_the_access_names(probe: Probe):
    into_list = sql(insert(TASKS).values(id="t", list_id="l"))
    assert "'owner of the list'" in into_list
    assert "%(todo_api_owner)s" not in into_list
    assert "%(todo_api_owner)s" in sql(insert(TASKS).values(id="t"))
    moved = sql(update(TASKS).values(list_id="l"))
    assert "user_id='owner of the list'" in moved
    assert "user_id=" not in sql(update(TASKS).values(title="x"))


def test_an_insert_from_select_names_its_container_by_column(probe: Probe):
    source = select(literal("t").label("id"), literal("l").label("list_id"))
    assert "'owner of the list'" in sql(insert(TASKS).from_select(["id", "list_id"], source))


def test_only_the_statements_own_select_may_be_paged(probe: Probe):
    probe.paged = True
    page = select(TASKS.c.id).order_by(TASKS.c.id).limit(5)
    assert sql(page) == "SELECT 'a page'"
    nested = select(page.subquery().c.id)
    assert "'a page'" not in sql(nested)
    assert "'probe rule'" in sql(nested)
    locked = page.with_for_update()
    assert "'a page'" not in sql(locked)
