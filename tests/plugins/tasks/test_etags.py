"""Task: T-046, T-258
Spec: specs/api/rest-endpoints.md §Tasks, §ETags and concurrency

ETag, If-None-Match (304) and If-Match (412), including two editors racing; a malformed
precondition (not `*` nor quoted tags) is a 422 naming its header, never a 412.
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


MALFORMED = ["abc", "", "{bare}", '"unclosed', '*, "a"', 'W/ "a"', '"a" "b"', '"a b"']


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("template", MALFORMED)
async def test_a_malformed_if_match_is_a_422_naming_it_and_changes_nothing(
    alice: User, task: dict, method: str, template: str
):
    url, tag = await url_and_tag(alice, task)
    header = template.format(bare=tag.strip('"'))  # the current tag, but unquoted
    response = await alice.request(
        method,
        url,
        json={"title": "lost"} if method != "DELETE" else None,
        headers={"If-Match": header},
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    [error] = response.json()["errors"]
    assert error["loc"] == ["header", "If-Match"]
    assert "quoted entity tags" in error["msg"]
    assert (await alice.get(url)).json() == task


@pytest.mark.parametrize("body", [{"title": "lost"}, {}])
async def test_a_malformed_if_match_is_a_422_whether_or_not_anything_changes(
    alice: User, task: dict, body: dict
):
    url = f"{TASKS}/{task['id']}"
    response = await alice.patch(url, json=body, headers={"If-Match": "abc"})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["header", "If-Match"]


@pytest.mark.parametrize("template", MALFORMED)
async def test_a_malformed_if_none_match_is_a_422_naming_it(alice: User, task: dict, template: str):
    url, tag = await url_and_tag(alice, task)
    response = await alice.get(url, headers={"If-None-Match": template.format(bare=tag[1:-1])})
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["loc"] == ["header", "If-None-Match"]
    assert "quoted entity tags" in error["msg"]


@pytest.mark.parametrize(
    "template", ["{tag},", ", {tag}", '"a" ,, {tag}', " {tag} ", '"x,y", {tag}']
)
async def test_lists_with_empty_elements_and_whitespace_are_well_formed(
    alice: User, task: dict, template: str
):
    url, tag = await url_and_tag(alice, task)
    header = template.format(tag=tag)
    assert (await alice.get(url, headers={"If-None-Match": header})).status_code == 304
    response = await alice.patch(url, json={"title": "new"}, headers={"If-Match": header})
    assert response.status_code == 200, response.text


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
