"""Task: T-336
Spec: specs/features/sharing.md §Members and invitations; specs/api/rest-endpoints.md §Sharing

Invitations by link: made by the owner only, accepted once per person, bounded in time and
uses, revocable; a dead token says nothing about its list; 60 concurrent accepts of a link for
5 make exactly 5 members.
"""

import asyncio
import hashlib

import pytest

from tests.plugins.tasks.conftest import TASKS, User

LISTS = "/api/v1/lists"


async def new_list(owner: User, name: str = "Groceries") -> str:
    made = await owner.post(LISTS, json={"name": name})
    assert made.status_code == 201, made.text
    return made.json()["id"]


async def invite(owner: User, list_id: str, **body) -> dict:
    made = await owner.post(f"{LISTS}/{list_id}/invitations", json={"role": "editor", **body})
    assert made.status_code == 201, made.text
    return made.json()


async def accept(user: User, invitation: dict):
    return await user.post(invitation["url_path"])


async def test_a_link_makes_a_member_at_its_role_once(alice: User, bob: User, db):
    list_id = await new_list(alice)
    invitation = await invite(alice, list_id, role="viewer")
    token = invitation["token"]
    assert invitation["url_path"] == f"/api/v1/invitations/{token}/accept"
    assert invitation["uses"] == 0 and invitation["max_uses"] is None
    stored = await db.fetchrow("SELECT token_hash FROM list_invitations")
    assert stored["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (await alice.get(f"{LISTS}/{list_id}/invitations")).text

    joined = await accept(bob, invitation)
    assert joined.status_code == 200, joined.text
    assert joined.json()["id"] == list_id and joined.json()["role"] == "viewer"
    assert joined.json()["owner_id"] == alice.id
    again = await accept(bob, invitation)  # idempotent: no use consumed
    assert again.status_code == 200 and again.json() == joined.json()
    assert (await accept(alice, invitation)).json()["role"] == "owner"
    [listed] = (await alice.get(f"{LISTS}/{list_id}/invitations")).json()
    assert listed["uses"] == 1 and "token" not in listed
    assert (await bob.get(f"{LISTS}/{list_id}")).json()["role"] == "viewer"
    members = (await bob.get(f"{LISTS}/{list_id}/members")).json()
    assert [(m["user_id"], m["role"]) for m in members] == [(alice.id, "owner"), (bob.id, "viewer")]


async def test_dead_tokens_are_404_and_say_nothing(alice: User, bob: User, user_factory, db):
    list_id = await new_list(alice)
    once = await invite(alice, list_id, max_uses=1)
    assert (await accept(bob, once)).status_code == 200
    carol = await user_factory()
    used_up = await accept(carol, once)
    expired_invitation = await invite(alice, list_id)
    await db.execute(
        "UPDATE list_invitations SET expires_at = now() - interval '1 second' WHERE id = $1",
        expired_invitation["id"],
    )
    expired = await accept(carol, expired_invitation)
    revoked_invitation = await invite(alice, list_id)
    gone = await alice.delete(f"{LISTS}/{list_id}/invitations/{revoked_invitation['id']}")
    assert gone.status_code == 204
    revoked = await accept(carol, revoked_invitation)
    unknown = await carol.post("/api/v1/invitations/not-a-token/accept")
    too_long = await carol.post(f"/api/v1/invitations/{'x' * 5000}/accept")
    answers = [used_up, expired, revoked, unknown, too_long]
    assert [a.status_code for a in answers] == [404] * 5
    assert {a.json()["detail"] for a in answers[:4]} == {"Invitation not found"}
    assert all(list_id not in a.text for a in answers)
    assert (await carol.get(f"{LISTS}/{list_id}")).status_code == 404
    again = await alice.delete(f"{LISTS}/{list_id}/invitations/{revoked_invitation['id']}")
    assert again.status_code == 404


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"expires_in": 59}, 422),
        ({"expires_in": 60}, 201),
        ({"expires_in": 30 * 24 * 3600}, 201),
        ({"expires_in": 30 * 24 * 3600 + 1}, 422),
        ({"expires_in": 10**30}, 422),
        ({"expires_in": None}, 422),
        ({"max_uses": 0}, 422),
        ({"max_uses": 1}, 201),
        ({"max_uses": 1000}, 201),
        ({"max_uses": 1001}, 422),
        ({"max_uses": None}, 201),
        ({"role": "owner"}, 422),
        ({"token": "mine"}, 422),
    ],
)
async def test_the_bounds(alice: User, body: dict, status: int, db):
    list_id = await new_list(alice)
    made = await alice.post(f"{LISTS}/{list_id}/invitations", json={"role": "editor", **body})
    assert made.status_code == status, made.text
    count = await db.fetchval("SELECT count(*) FROM list_invitations")
    assert count == (1 if status == 201 else 0)


async def test_only_the_owner_invites_and_never_on_the_default_list(
    alice: User, bob: User, user_factory
):
    list_id = await new_list(alice)
    invitation = await invite(alice, list_id)
    await accept(bob, invitation)  # an editor
    carol = await user_factory()
    path = f"{LISTS}/{list_id}/invitations"
    assert (await bob.post(path, json={"role": "viewer"})).status_code == 403
    assert (await bob.get(path)).status_code == 403
    assert (await bob.delete(f"{path}/{invitation['id']}")).status_code == 403
    assert (await carol.post(path, json={"role": "viewer"})).status_code == 404
    assert (await carol.get(path)).status_code == 404
    assert (await carol.delete(f"{path}/{invitation['id']}")).status_code == 404
    default = (await alice.get(LISTS)).json()[0]
    assert default["is_default"]
    refused = await alice.post(f"{LISTS}/{default['id']}/invitations", json={"role": "viewer"})
    assert refused.status_code == 409, refused.text
    assert (await alice.get(f"{LISTS}/{default['id']}/invitations")).json() == []


async def test_sixty_concurrent_accepts_of_a_link_for_five(alice: User, user_factory, db):
    list_id = await new_list(alice)
    invitation = await invite(alice, list_id, max_uses=5)
    users = [await user_factory() for _ in range(60)]
    answers = await asyncio.gather(*(accept(user, invitation) for user in users))
    assert sorted(a.status_code for a in answers) == [200] * 5 + [404] * 55
    members = await db.fetchval("SELECT count(*) FROM list_members WHERE list_id = $1", list_id)
    assert members == 5
    uses = await db.fetchval("SELECT uses FROM list_invitations")
    assert uses == 5


async def test_a_joiner_works_in_the_list_at_once(alice: User, bob: User):
    list_id = await new_list(alice)
    await accept(bob, await invite(alice, list_id))
    made = await bob.post(TASKS, json={"title": "eggs", "list_id": list_id})
    assert made.status_code == 201, made.text
    assert [t["title"] for t in (await alice.get(TASKS, params={"list_id": list_id})).json()] == [
        "eggs"
    ]
