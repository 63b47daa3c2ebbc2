"""Task: T-046
Spec: specs/api/rest-endpoints.md §Tasks

ETag, If-None-Match (304) and If-Match (412), including two editors racing.
"""

import asyncio

import pytest

from tests.plugins.tasks.conftest import TASKS, User


@pytest.fixture
async def task(alice: User) -> dict:
    return await alice.create(title="original")


async def url_and_tag(user: User, task: dict) -> tuple[str, str]:
    url = f"{TASKS}/{task['id']}"
    return url, (await user.get(url)).headers["etag"]


async def test_etag_moves_with_every_change(alice: User, task: dict):
    url, first = await url_and_tag(alice, task)
    assert first == (await alice.get(url)).headers["etag"]
    changed = await alice.patch(url, json={"title": "changed"})
    assert changed.headers["etag"] != first
    assert changed.headers["etag"] == (await alice.get(url)).headers["etag"]
    completed = await alice.patch(f"{url}/complete")
    assert completed.headers["etag"] not in {first, changed.headers["etag"]}


@pytest.mark.parametrize("header", ["{tag}", "W/{tag}", '"other", {tag}', "*"])
async def test_if_none_match_with_the_current_tag_is_304(alice: User, task: dict, header: str):
    url, tag = await url_and_tag(alice, task)
    response = await alice.get(url, headers={"If-None-Match": header.format(tag=tag)})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == tag


async def test_if_none_match_with_a_stale_tag_is_200(alice: User, task: dict):
    url, tag = await url_and_tag(alice, task)
    await alice.patch(url, json={"title": "new"})
    response = await alice.get(url, headers={"If-None-Match": tag})
    assert response.status_code == 200
    assert response.json()["title"] == "new"


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
async def test_if_match_current_tag_updates(alice: User, task: dict, method: str):
    url, tag = await url_and_tag(alice, task)
    for template in ("{tag}", "*", '"nope", {tag}'):
        header = template.format(tag=tag)
        response = await alice.request(
            method, url, json={"title": header}, headers={"If-Match": header}
        )
        assert response.status_code == 200, response.text
        tag = response.headers["etag"]


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_if_match_stale_tag_is_412_and_changes_nothing(alice: User, task: dict, method: str):
    url, stale = await url_and_tag(alice, task)
    current = (await alice.patch(url, json={"description": "moved on"})).json()
    for header in (stale, f"W/{stale}", '"garbage"'):
        response = await alice.request(
            method,
            url,
            json={"title": "lost"} if method != "DELETE" else None,
            headers={"If-Match": header},
        )
        assert response.status_code == 412, response.text
        assert response.headers["content-type"] == "application/problem+json"
    assert (await alice.get(url)).json() == current


async def test_delete_with_current_tag(alice: User, task: dict):
    url, tag = await url_and_tag(alice, task)
    assert (await alice.delete(url, headers={"If-Match": tag})).status_code == 204
    assert (await alice.get(url)).status_code == 404


async def test_two_editors_with_the_same_tag_one_wins_one_gets_412(alice: User, task: dict):
    url, tag = await url_and_tag(alice, task)
    titles = [f"editor {i}" for i in range(2)]
    responses = await asyncio.gather(
        *(alice.patch(url, json={"title": t}, headers={"If-Match": tag}) for t in titles)
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 412]
    winner = next(r for r in responses if r.status_code == 200).json()
    stored = (await alice.get(url)).json()
    assert stored == winner
    assert stored["version"] == 2


async def test_concurrent_edits_without_if_match_lose_nothing(alice: User, task: dict):
    url = f"{TASKS}/{task['id']}"
    changes = [{"title": "new title"}, {"priority": "high"}, {"tags": ["x"]}, {"description": "d"}]
    responses = await asyncio.gather(*(alice.patch(url, json=change) for change in changes))
    assert [r.status_code for r in responses] == [200] * len(changes)
    stored = (await alice.get(url)).json()
    for change in changes:
        assert stored.items() >= change.items()
    assert stored["version"] == 1 + len(changes)
