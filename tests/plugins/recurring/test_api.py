"""Task: T-178, T-364, T-375
Spec: specs/features/recurring.md §Endpoints, §Rules; specs/api/rest-endpoints.md §Recurring;
specs/features/sharing.md §Testing

The recurrence endpoints: validation (each refusal a 422 naming the field and the problem,
changing nothing), isolation, editing (future occurrences only), and deleting one occurrence or
the rest of a series.
"""

import pytest

from app.testing import assert_isolated
from tests.plugins.recurring.conftest import Recurring
from tests.plugins.tasks.conftest import TASKS
from tests.plugins.tasks.sharing import sharing

DUE = "2026-05-01T07:00:00Z"


@pytest.mark.parametrize(
    ("rule", "timezone", "field", "problem"),
    [
        ("every day", "Europe/Berlin", "rule", "each part is NAME=VALUE"),
        ("FREQ=FORTNIGHTLY", "Europe/Berlin", "rule", "FREQ is one of"),
        ("INTERVAL=2", "Europe/Berlin", "rule", "FREQ is required"),
        ("FREQ=DAILY;COLOR=RED", "Europe/Berlin", "rule", "unknown part COLOR"),
        ("FREQ=DAILY;BYDAY=XX", "Europe/Berlin", "rule", "value out of range"),
        ("FREQ=DAILY;INTERVAL=0", "Europe/Berlin", "rule", "INTERVAL is between"),
        ("DTSTART:20260101T090000\nRRULE:FREQ=DAILY", "Europe/Berlin", "rule", "without DTSTART"),
        ("FREQ=DAILY;UNTIL=20270101", "Europe/Berlin", "rule", "UNTIL must be a date-time in UTC"),
        ("FREQ=DAILY;UNTIL=20260101T000000Z", "Europe/Berlin", "rule", "never produces"),
        ("FREQ=DAILY;COUNT=1", "Europe/Berlin", "rule", "never produces"),
        ("FREQ=DAILY;COUNT=3;UNTIL=20270101T000000Z", "Europe/Berlin", "rule", "COUNT and UNTIL"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=31", "Europe/Berlin", "rule", "never produces"),
        ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "Europe/Berlin", "rule", "never produces"),
        ("FREQ=SECONDLY", "Europe/Berlin", "rule", "more often than once a minute"),
        ("FREQ=MINUTELY;BYSECOND=0,30", "Europe/Berlin", "rule", "more often than once a minute"),
        ("FREQ=WEEKLY;BYDAY=1MO", "Europe/Berlin", "rule", "numbered BYDAY"),
        ("FREQ=WEEKLY;BYMONTHDAY=1", "Europe/Berlin", "rule", "BYMONTHDAY cannot be used"),
        ("FREQ=DAILY;" + "BYHOUR=9;" * 60, "Europe/Berlin", "rule", "at most 500 characters"),
        ("FREQ=DAILY", "Mars/Olympus_Mons", "timezone", "not a known IANA time zone"),
        ("FREQ=DAILY", "../../etc/passwd", "timezone", "not a known IANA time zone"),
    ],
)
async def test_bad_rules_are_422s_naming_the_problem(alice, db, rule, timezone, field, problem):
    task = await alice.create(due_at=DUE)
    response = await alice.put(
        f"{TASKS}/{task['id']}/recurrence", json={"rule": rule, "timezone": timezone}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    (error,) = response.json()["errors"]
    assert error["loc"] == ["body", field] and problem in error["msg"], error
    assert await db.fetchval("SELECT count(*) FROM recurrences") == 0


async def test_a_task_without_due_at_cannot_recur(alice):
    task = await alice.create()
    response = await alice.put(
        f"{TASKS}/{task['id']}/recurrence", json={"rule": "FREQ=DAILY", "timezone": "UTC"}
    )
    assert response.status_code == 422
    assert "due_at" in response.json()["errors"][0]["msg"]


async def test_get_put_delete(alice):
    task = await alice.create(due_at=DUE)
    url = f"{TASKS}/{task['id']}/recurrence"
    assert (await alice.get(url)).status_code == 404
    put = await alice.put(url, json={"rule": "FREQ=WEEKLY", "timezone": "Europe/Berlin"})
    assert put.status_code == 200
    body = put.json()
    assert body["task_id"] == task["id"] and body["version"] == 1
    assert body["next_due_at"] == "2026-05-08T07:00:00Z"
    assert (await alice.get(url)).json() == body
    same = await alice.put(url, json={"rule": "RRULE:FREQ=WEEKLY", "timezone": "Europe/Berlin"})
    assert same.json() == body  # unchanged: not written again
    changed = await alice.put(url, json={"rule": "FREQ=DAILY", "timezone": "Europe/Berlin"})
    assert changed.json()["version"] == 2 and changed.json()["series_id"] == body["series_id"]
    assert (await alice.delete(url)).status_code == 204
    assert (await alice.get(url)).status_code == 404
    assert (await alice.delete(url)).status_code == 404
    assert (await alice.get(f"{TASKS}/{task['id']}")).status_code == 200  # the task stays
    await alice.complete(task["id"])
    assert len(await alice.tasks()) == 1  # no longer recurs


async def test_unknown_and_malformed_ids_are_404s(alice):
    for task_id in ("not-a-uuid", "3f2b8c1e-7d4a-4e1b-9a65-0c2d5e8f1a47"):
        url = f"{TASKS}/{task_id}"
        body = {"rule": "FREQ=DAILY", "timezone": "UTC"}
        assert (await alice.put(f"{url}/recurrence", json=body)).status_code == 404
        assert (await alice.get(f"{url}/recurrence")).status_code == 404
        assert (await alice.delete(f"{url}/recurrence")).status_code == 404
        for scope in ("this", "future"):
            gone = await alice.delete(f"{url}/occurrence", params={"scope": scope})
            assert gone.status_code == 404


async def test_isolation(app, alice: Recurring, bob: Recurring, db):
    async def create(user: Recurring) -> dict[str, str]:
        shared = await user.post("/api/v1/lists", json={"name": "shared"})
        task = await user.recurring("FREQ=DAILY", DUE, list_id=shared.json()["id"])
        return {"task_id": task["id"]}

    share, unshare = sharing(db)

    checked = await assert_isolated(
        app,
        alice,
        bob,
        plugin="recurring",
        create=create,
        body={"rule": "FREQ=HOURLY", "timezone": "UTC"},
        share=share,
        unshare=unshare,
    )
    assert ("PUT", "/api/v1/tasks/{task_id}/recurrence") in checked.unreachable
    # The role check: a recurrence is `Shared` as its task is, so a viewer of the task's list
    # reads it and every write (setting, removing the rule, deleting an occurrence) is a 403
    # changing nothing; nothing of the plugin stays personal.
    assert checked.readable == [("GET", "/api/v1/tasks/{task_id}/recurrence")]
    assert set(checked.forbidden) == set(checked.unreachable) - set(checked.readable)
    assert set(checked.forbidden) == {
        ("PUT", "/api/v1/tasks/{task_id}/recurrence"),
        ("DELETE", "/api/v1/tasks/{task_id}/recurrence"),
        ("DELETE", "/api/v1/tasks/{task_id}/occurrence"),
    }
    assert checked.personal == checked.own == checked.owner_only == []
    assert checked.revoked == checked.unreachable
    assert ("DELETE", "/api/v1/tasks/{task_id}/occurrence") in checked.unreachable
    # And explicitly: Bob cannot make Alice's task recur.
    task = await alice.create(due_at=DUE)
    url = f"{TASKS}/{task['id']}/recurrence"
    refused = await bob.put(url, json={"rule": "FREQ=DAILY", "timezone": "UTC"})
    assert refused.status_code == 404
    assert (await alice.get(url)).status_code == 404


async def test_occurrence_scope_param_is_validated(alice):
    task = await alice.create(due_at=DUE)
    url = f"{TASKS}/{task['id']}/occurrence"
    assert (await alice.delete(url, params={"scope": "all"})).status_code == 422
    assert (await alice.get(f"{TASKS}/{task['id']}")).status_code == 200


async def test_editing_the_rule_affects_future_occurrences_only(alice):
    task = await alice.recurring("FREQ=DAILY", DUE)
    await alice.complete(task["id"])
    second = (await alice.recurrence(task["id"])).json()["successor_id"]
    # Weekly from the second occurrence on: it keeps its due_at, the next one is a week on.
    url = f"{TASKS}/{second}/recurrence"
    assert (
        await alice.put(url, json={"rule": "FREQ=WEEKLY", "timezone": "Europe/Berlin"})
    ).status_code == 200
    assert (await alice.get(f"{TASKS}/{second}")).json()["due_at"] == "2026-05-02T07:00:00Z"
    assert (await alice.recurrence(task["id"])).json()["rule"] == "FREQ=DAILY"  # the past keeps it
    first = (await alice.get(f"{TASKS}/{task['id']}")).json()
    assert first["completed"] and first["due_at"] == DUE
    await alice.complete(second)
    third = (await alice.recurrence(second)).json()["successor_id"]
    assert (await alice.get(f"{TASKS}/{third}")).json()["due_at"] == "2026-05-09T07:00:00Z"
    assert (await alice.recurrence(third)).json()["rule"] == "FREQ=WEEKLY"


async def test_deleting_this_occurrence_makes_the_next(alice):
    task = await alice.recurring("FREQ=DAILY", DUE, title="Water plants")
    gone = await alice.delete(f"{TASKS}/{task['id']}/occurrence")  # scope=this, the default
    assert gone.status_code == 204
    (following,) = await alice.tasks()
    assert following["title"] == "Water plants" and following["due_at"] == "2026-05-02T07:00:00Z"
    assert (await alice.recurrence(following["id"])).status_code == 200
    # Once more, for a completed occurrence that already has its successor: only it goes.
    await alice.complete(following["id"])
    assert len(await alice.tasks()) == 2
    url = f"{TASKS}/{following['id']}/occurrence"
    assert (await alice.delete(url, params={"scope": "this"})).status_code == 204
    (third,) = await alice.tasks()
    assert third["due_at"] == "2026-05-03T07:00:00Z"


async def test_deleting_this_and_all_future_ends_the_series(alice, db):
    task = await alice.recurring("FREQ=DAILY", DUE)
    url = f"{TASKS}/{task['id']}/occurrence"
    assert (await alice.delete(url, params={"scope": "future"})).status_code == 204
    assert await alice.tasks() == []
    assert await db.fetchval("SELECT count(*) FROM recurrences") == 0
    # A plain DELETE /tasks/{id} does the same: the recurrence goes with the task.
    other = await alice.recurring("FREQ=DAILY", DUE)
    assert (await alice.delete(f"{TASKS}/{other['id']}")).status_code == 204
    assert await db.fetchval("SELECT count(*) FROM recurrences") == 0
