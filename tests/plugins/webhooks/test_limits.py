"""Task: T-217
Spec: specs/features/webhooks.md §Registration, specs/api/rest-endpoints.md §Limits

The endpoint limit holds against 60 registrations sent at once through two instances on one
database, and a deleted endpoint gives its slot back; another user is not affected.
"""

import asyncio
from dataclasses import replace

from app.testing import ApiUser, sign_up
from tests.plugins.webhooks.conftest import WEBHOOKS, register

LIMIT = 20
RACERS = 60


async def test_sixty_racing_registrations_on_two_instances_store_the_limit(start_app, receiver, db):
    instances = [await start_app(), await start_app()]
    alice = await sign_up(instances[0], ApiUser)
    on = [alice, replace(alice, http=instances[1])]
    answers = await asyncio.gather(
        *(on[n % 2].post(WEBHOOKS, json={"url": receiver.url}) for n in range(RACERS))
    )
    codes = [answer.status_code for answer in answers]
    assert (codes.count(201), codes.count(409)) == (LIMIT, RACERS - LIMIT), codes
    assert await db.fetchval("SELECT count(*) FROM webhook_endpoints") == LIMIT

    created = next(answer.json() for answer in answers if answer.status_code == 201)
    assert (await alice.delete(f"{WEBHOOKS}/{created['id']}")).status_code == 204
    again = await asyncio.gather(
        *(on[n % 2].post(WEBHOOKS, json={"url": receiver.url}) for n in range(10))
    )
    assert sorted(answer.status_code for answer in again) == [201] + [409] * 9
    assert await db.fetchval("SELECT count(*) FROM webhook_endpoints") == LIMIT

    bob = await sign_up(instances[1], ApiUser)
    await register(bob, receiver.url)  # the limit is per user
