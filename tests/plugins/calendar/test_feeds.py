"""Task: T-436
Spec: specs/features/calendar.md §Testing

The calendar plugin through its API: feeds made, listed and revoked; the `.ics` parsed with
`icalendar` and read by `vobject` (RFC 5545), one series for a recurring task, stable UIDs,
ETag and 304, one statement, isolation, shared lists, and 60 polls at once.
"""

import asyncio
from typing import Any

import icalendar
import pytest
import vobject

from app.testing import assert_isolated, assert_scoped
from tests.plugins.recurring.conftest import Recurring, make
from tests.plugins.tasks.sharing import sharing

FEEDS = "/api/v1/calendar/feeds"
LISTS = "/api/v1/lists"


async def feed(user: Recurring, **body: Any) -> dict[str, Any]:
    made = await user.post(FEEDS, json={"name": "Due", **body})
    assert made.status_code == 201, made.text
    return made.json()


def path(made: dict[str, Any]) -> str:
    return made["url"].split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def parsed(text: str) -> icalendar.Calendar:
    calendar = icalendar.Calendar.from_ical(text)
    vobject.readOne(text).validate()  # a second parser, and its RFC 5545 checks
    return calendar


async def test_a_feed_shows_due_tasks_as_todos_and_events(alice: Recurring) -> None:
    task = await alice.create(
        title="Pay rent",
        description="by transfer",
        due_at="2030-03-01T09:00:00Z",
        priority="high",
        tags=["home", "money"],
    )
    await alice.create(title="No date")
    made = await feed(alice)
    assert made["url"].endswith(".ics") and "token_hash" not in made
    answer = await alice.http.get(path(made))  # no header: the URL is the secret
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/calendar; charset=utf-8"
    calendar = parsed(answer.text)
    assert calendar["X-WR-CALNAME"] == "Due"
    [todo] = calendar.walk("VTODO")
    [event] = calendar.walk("VEVENT")
    assert str(todo["UID"]) == f"{task['id']}@todo-api" != str(event["UID"])
    assert todo["SUMMARY"] == "Pay rent" and todo["DESCRIPTION"] == "by transfer"
    assert todo["PRIORITY"] == 1 and todo["STATUS"] == "NEEDS-ACTION"
    assert todo.decoded("DUE").isoformat() == "2030-03-01T09:00:00+00:00"
    assert list(todo["CATEGORIES"].cats) == ["home", "money"]
    assert todo["SEQUENCE"] == 0
    assert event.decoded("DTSTART") == todo.decoded("DUE")
    listed = (await alice.get(FEEDS)).json()
    assert [f["id"] for f in listed] == [made["id"]] and "url" not in listed[0]


async def test_a_recurring_task_is_one_series_with_its_rule_and_zone(alice: Recurring) -> None:
    task = await alice.recurring("FREQ=WEEKLY;BYDAY=MO", "2030-03-25T08:00:00Z")
    await alice.complete(task["id"])  # the next occurrence is made: still one series
    made = await feed(alice, include_completed=False)
    calendar = parsed((await alice.http.get(path(made))).text)
    [todo] = calendar.walk("VTODO")
    assert todo["RRULE"].to_ical() == b"FREQ=WEEKLY;BYDAY=MO"
    assert todo["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert [str(z["TZID"]) for z in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    [event] = calendar.walk("VEVENT")
    assert event["RRULE"].to_ical() == b"FREQ=WEEKLY;BYDAY=MO"


async def test_uids_stay_and_an_unchanged_feed_is_a_304(alice: Recurring) -> None:
    task = await alice.create(title="A", due_at="2030-01-01T10:00:00Z")
    url = path(await feed(alice))
    first = await alice.http.get(url)
    again = await alice.http.get(url)
    assert first.text == again.text and first.headers["etag"] == again.headers["etag"]
    unchanged = await alice.http.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert unchanged.status_code == 304 and not unchanged.content
    listed = f'"other", W/{first.headers["etag"]}'
    assert (await alice.http.get(url, headers={"If-None-Match": listed})).status_code == 304
    malformed = await alice.http.get(url, headers={"If-None-Match": "not-a-tag"})
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["loc"] == ["header", "If-None-Match"]
    await alice.patch(f"/api/v1/tasks/{task['id']}", json={"title": "B"})
    changed = await alice.http.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert changed.status_code == 200 and changed.headers["etag"] != first.headers["etag"]
    [todo] = parsed(changed.text).walk("VTODO")
    assert str(todo["UID"]) == f"{task['id']}@todo-api" and todo["SEQUENCE"] == 1


async def test_a_feed_costs_one_statement(alice: Recurring, statements) -> None:  # type: ignore[no-untyped-def]
    await alice.recurring("FREQ=DAILY", "2030-01-01T10:00:00Z")
    url = path(await feed(alice))
    await alice.http.get(url)
    statements.clear()
    assert (await alice.http.get(url)).status_code == 200
    assert statements.verbs() == ["SELECT"]
    statements.clear()
    assert (await alice.http.get(url.replace(".ics", "x.ics"))).status_code == 404
    assert statements.verbs() == ["SELECT"]


async def test_a_revoked_or_made_up_token_is_a_404(alice: Recurring) -> None:
    made = await feed(alice)
    url = path(made)
    assert (await alice.http.get(url)).status_code == 200
    assert (await alice.delete(f"{FEEDS}/{made['id']}")).status_code == 204
    assert (await alice.http.get(url)).status_code == 404
    assert (await alice.delete(f"{FEEDS}/{made['id']}")).status_code == 404
    for token in ("x", "a.b.c", "x" * 5000, url.rsplit("/", 1)[1][:-4] + "A"):
        assert (await alice.http.get(f"/api/v1/calendar/{token}.ics")).status_code == 404


async def test_another_users_list_is_refused_and_not_leaked(
    alice: Recurring, bob: Recurring
) -> None:
    theirs = (await bob.post(LISTS, json={"name": "Bob's"})).json()["id"]
    await bob.create(title="Secret", due_at="2030-01-01T10:00:00Z", list_id=theirs)
    for list_id in (theirs, "not-a-uuid"):
        refused = await alice.post(FEEDS, json={"name": "x", "list_id": list_id})
        assert refused.status_code == 422 and refused.json()["errors"][0]["loc"] == [
            "body",
            "list_id",
        ], refused.text
    everything = await feed(alice)
    assert "Secret" not in (await alice.http.get(path(everything))).text
    assert (await alice.get(FEEDS)).json() == [
        {
            key: everything[key]
            for key in ("id", "name", "list_id", "include_completed", "created_at")
        }
    ]


async def test_a_members_feed_of_a_shared_list_stops_when_they_leave(
    alice: Recurring,
    bob: Recurring,
    db,  # type: ignore[no-untyped-def]
) -> None:
    shared = (await bob.post(LISTS, json={"name": "Team"})).json()["id"]
    await bob.create(title="Team task", due_at="2030-01-01T10:00:00Z", list_id=shared)
    share, _ = sharing(db)
    await share(bob, alice, "viewer")
    url = path(await feed(alice, list_id=shared))
    assert "Team task" in (await alice.http.get(url)).text
    assert (await alice.delete(f"{LISTS}/{shared}/members/me")).status_code == 204
    left = await alice.http.get(url)
    assert left.status_code == 200 and "Team task" not in left.text


async def test_completed_tasks_only_when_asked(alice: Recurring) -> None:
    task = await alice.create(title="Done", due_at="2030-01-01T10:00:00Z")
    await alice.complete(task["id"])
    assert not parsed((await alice.http.get(path(await feed(alice)))).text).walk("VTODO")
    kept = parsed((await alice.http.get(path(await feed(alice, include_completed=True)))).text)
    [todo] = kept.walk("VTODO")
    assert todo["STATUS"] == "COMPLETED" and "COMPLETED" in todo


async def test_the_feed_limit_holds_under_a_race(make_client) -> None:  # type: ignore[no-untyped-def]
    client = await make_client(tables={"calendar": {"max_feeds": 3}})
    alice = await make(client)
    answers = await asyncio.gather(*(alice.post(FEEDS, json={"name": "x"}) for _ in range(20)))
    assert sorted(a.status_code for a in answers) == [201] * 3 + [409] * 17
    await alice.delete(
        f"{FEEDS}/{answers[[a.status_code for a in answers].index(201)].json()['id']}"
    )
    assert (await alice.post(FEEDS, json={"name": "x"})).status_code == 201


async def test_a_feed_shows_at_most_max_tasks_nearest_to_now(make_client) -> None:  # type: ignore[no-untyped-def]
    client = await make_client(tables={"calendar": {"max_tasks": 2}})
    alice = await make(client)
    for due in ("2000-01-01", "2099-01-01", "2027-01-01", "2026-06-01"):
        await alice.create(title=due, due_at=f"{due}T00:00:00Z")
    calendar = parsed((await alice.http.get(path(await feed(alice)))).text)
    assert sorted(str(t["SUMMARY"]) for t in calendar.walk("VTODO")) == ["2026-06-01", "2027-01-01"]


async def test_sixty_polls_at_once(alice: Recurring) -> None:
    for n in range(5):
        await alice.create(title=f"t{n}", due_at=f"2030-01-0{n + 1}T10:00:00Z")
    url = path(await feed(alice))
    answers = await asyncio.gather(*(alice.http.get(url) for _ in range(60)))
    assert {a.status_code for a in answers} == {200}
    assert len({a.text for a in answers}) == 1


async def test_isolation_and_scopes(client, alice: Recurring, bob: Recurring) -> None:  # type: ignore[no-untyped-def]
    async def create(user: Any) -> dict[str, str]:
        made = await feed(user)
        revoked = await feed(user)
        await user.delete(f"{FEEDS}/{revoked['id']}")
        return {"feed_id": made["id"], "token": path(revoked).rsplit("/", 1)[1][:-4]}

    report = await assert_isolated(client.app, alice, bob, plugin="calendar", create=create)
    assert ("DELETE", "/api/v1/calendar/feeds/{feed_id}") in report.unreachable
    assert "/api/v1/calendar/feeds" in report.lists
    scoped = await assert_scoped(client.app, alice, plugin="calendar", body={"name": "x"})
    assert ("POST", "/api/v1/calendar/feeds") in scoped.refused
    assert ("GET", "/api/v1/calendar/feeds") in scoped.read


@pytest.mark.parametrize("body", [{"name": ""}, {"name": "x" * 201}, {"name": "x", "y": 1}])
async def test_bad_bodies_are_422(alice: Recurring, body: dict[str, Any]) -> None:
    assert (await alice.post(FEEDS, json=body)).status_code == 422


async def test_without_recurring_a_recurring_task_is_a_one_off(make_client) -> None:  # type: ignore[no-untyped-def]
    from tests.plugins.recurring.conftest import ENABLED

    client = await make_client(enabled=tuple(n for n in ENABLED if n != "recurring"))
    alice = await make(client)
    await alice.create(title="Plain", due_at="2030-01-01T10:00:00Z")
    [todo] = parsed((await alice.http.get(path(await feed(alice)))).text).walk("VTODO")
    assert "RRULE" not in todo and "DUE" in todo


async def test_the_app_starts_without_calendar(make_client) -> None:  # type: ignore[no-untyped-def]
    from tests.plugins.recurring.conftest import ENABLED

    client = await make_client(enabled=tuple(n for n in ENABLED if n != "calendar"))
    alice = await make(client)
    assert (await alice.get(FEEDS)).status_code == 404
