"""Task: T-217
Spec: specs/features/reminders.md §Limits, specs/api/rest-endpoints.md §Limits

The per-task limit holds against 60 creates sent at once through two instances on one
database, and a deleted reminder gives its slot back.
"""

import asyncio
from dataclasses import replace

from tests.plugins.reminders.conftest import add_reminder, new_task, reminders_of

LIMIT = 20
RACERS = 60


async def test_sixty_racing_creates_on_two_instances_store_the_limit(
    start_instance, user_of, db
) -> None:
    instances = [await start_instance(worker=False), await start_instance(worker=False)]
    user = await user_of(instances[0])
    on = [user, replace(user, http=instances[1])]
    task = await new_task(user)
    path = reminders_of(task["id"])
    answers = await asyncio.gather(
        *(on[n % 2].post(path, json={"at": "2030-01-02T09:00:00Z"}) for n in range(RACERS))
    )
    codes = [answer.status_code for answer in answers]
    assert (codes.count(201), codes.count(409)) == (LIMIT, RACERS - LIMIT), codes
    assert await db.fetchval("SELECT count(*) FROM reminders") == LIMIT

    # A deleted reminder frees its slot: one more fits, and only one.
    created = next(answer.json() for answer in answers if answer.status_code == 201)
    assert (await user.delete(f"/api/v1/reminders/{created['id']}")).status_code == 204
    again = await asyncio.gather(
        *(on[n % 2].post(path, json={"at": "2030-01-02T10:00:00Z"}) for n in range(10))
    )
    assert sorted(answer.status_code for answer in again) == [201] + [409] * 9
    assert await db.fetchval("SELECT count(*) FROM reminders") == LIMIT


async def test_a_deleted_task_takes_its_count_with_it(start_instance, user_of, db) -> None:
    client = await start_instance(worker=False, reminders={"max_per_task": 1})
    user = await user_of(client)
    task = await new_task(user)
    await add_reminder(user, task["id"], at="2030-01-02T09:00:00Z")
    assert (await user.delete(f"/api/v1/tasks/{task['id']}")).status_code == 204
    other = await new_task(user)
    await add_reminder(user, other["id"], at="2030-01-02T09:00:00Z")
    assert await db.fetchval("SELECT count(*) FROM reminders") == 1
