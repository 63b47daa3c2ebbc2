"""Task: T-045
Spec: specs/api/rest-endpoints.md §Tasks

Keyset pagination: following `Link: rel="next"` visits every matching task exactly once, in
order, for every sort, even while tasks are being added between page fetches.
"""

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.plugins.tasks.conftest import TASKS, User

SORTS = ["created_at", "updated_at", "due_at", "priority", "title"]
NEXT = re.compile(r'<([^>]+)>; rel="next"')


def next_url(response) -> str | None:
    match = NEXT.fullmatch(response.headers.get("link", ""))
    return match.group(1) if match else None


async def walk(user: User, between_pages=None, **params) -> list[dict]:
    """Every task of every page, following the `next` links."""
    response = await user.get(TASKS, params=params)
    seen: list[dict] = []
    while True:
        assert response.status_code == 200, response.text
        seen.extend(response.json())
        url = next_url(response)
        if url is None:
            return seen
        if between_pages is not None:
            await between_pages()
        response = await user.get(url)


@pytest.fixture
async def varied(alice: User) -> User:
    """13 tasks with repeated priorities and titles, and some without a due date."""
    now = datetime.now(UTC)
    for i in range(13):
        due = None if i % 3 == 0 else (now + timedelta(days=i % 4)).isoformat()
        await alice.create(
            title=f"task {i % 5}",
            priority=["none", "low", "medium", "high"][i % 4],
            due_at=due,
            tags=["even"] if i % 2 == 0 else ["odd"],
        )
    return alice


@pytest.mark.parametrize("sort", [*SORTS, *(f"-{s}" for s in SORTS)])
@pytest.mark.parametrize("limit", [1, 4])
async def test_pages_visit_every_task_once_in_order(varied: User, sort: str, limit: int):
    everything = (await varied.get(TASKS, params={"sort": sort, "limit": 500})).json()
    paged = await walk(varied, sort=sort, limit=limit)
    assert [t["id"] for t in paged] == [t["id"] for t in everything]
    assert len(everything) == 13


async def test_pages_keep_the_filters(varied: User):
    paged = await walk(varied, tag="even", sort="due_at", limit=2)
    assert len(paged) == 7
    assert all(t["tags"] == ["even"] for t in paged)


async def test_last_page_has_no_next_link(varied: User):
    response = await varied.get(TASKS, params={"limit": 13})
    assert len(response.json()) == 13
    assert "link" not in response.headers
    response = await varied.get(TASKS, params={"limit": 12})
    assert next_url(response) is not None


@pytest.mark.parametrize("sort", ["-created_at", "created_at", "title", "-due_at", "priority"])
async def test_inserts_between_pages_neither_repeat_nor_hide_tasks(varied: User, sort: str):
    before = {t["id"] for t in await walk(varied, limit=500)}
    added: list[str] = []

    async def add_two() -> None:
        for _ in range(2):
            task = await varied.create(title=f"task {len(added) % 5}", priority="medium")
            added.append(task["id"])

    paged = [t["id"] for t in await walk(varied, between_pages=add_two, sort=sort, limit=3)]
    assert len(paged) == len(set(paged)), "a task was visited twice"
    assert before <= set(paged), "a task that existed all along was skipped"
    assert set(paged) <= before | set(added)
    assert added


async def test_cursor_with_other_filters_or_sort_is_422(varied: User):
    first = await varied.get(TASKS, params={"tag": "even", "limit": 2})
    cursor = re.search(r"cursor=([^&>]+)", first.headers["link"]).group(1)
    for params in (
        {"tag": "odd"},
        {"tag": "even", "sort": "title"},
        {"tag": "even", "completed": "false"},
        {},
    ):
        response = await varied.get(TASKS, params={**params, "cursor": cursor, "limit": 2})
        assert response.status_code == 422, params
        assert "cursor" in response.json()["detail"]
    # The page size may change between pages; so may the order of repeated parameters.
    same = await varied.get(TASKS, params={"tag": "even", "limit": 3, "cursor": cursor})
    assert same.status_code == 200
    assert len(same.json()) == 3


async def test_a_cursor_is_useless_to_another_user(varied: User, bob: User):
    first = await varied.get(TASKS, params={"limit": 2})
    response = await bob.get(next_url(first))
    assert response.status_code == 200
    assert response.json() == []
