"""Task: T-337
Spec: specs/features/sharing.md §Members and invitations; specs/api/rest-endpoints.md §Sharing

Members, roles and transfer: each role's rights on members, invitations, transfer and the
list itself; a transfer takes the tasks along; removal and leaving seen at once by a second
app instance on the same database.
"""

from tests.plugins.tasks.conftest import QUIET, TASKS, User

LISTS = "/api/v1/lists"


async def shared_list(owner: User, members: dict[User, str], name: str = "Groceries") -> str:
    made = await owner.post(LISTS, json={"name": name})
    assert made.status_code == 201, made.text
    list_id = made.json()["id"]
    for member, role in members.items():
        invitation = await owner.post(f"{LISTS}/{list_id}/invitations", json={"role": role})
        joined = await member.post(invitation.json()["url_path"])
        assert joined.status_code == 200, joined.text
    return list_id


User.__hash__ = object.__hash__  # type: ignore[method-assign]  # keys of `members` above


async def test_members_and_what_each_sees(alice: User, bob: User, user_factory):
    carol = await user_factory()
    list_id = await shared_list(alice, {bob: "editor", carol: "viewer"})
    lists = (await alice.get(f"{LISTS}/{list_id}")).json()
    for user, role in ((alice, "owner"), (bob, "editor"), (carol, "viewer")):
        seen = (await user.get(f"{LISTS}/{list_id}/members")).json()
        assert [(m["user_id"], m["role"]) for m in seen] == [
            (alice.id, "owner"),
            (bob.id, "editor"),
            (carol.id, "viewer"),
        ]
        assert seen[0]["joined_at"] == lists["created_at"]
        emails = {m["user_id"]: m["email"] for m in seen}
        if user is alice:
            assert emails == {alice.id: alice.email, bob.id: bob.email, carol.id: carol.email}
        else:
            assert emails == {alice.id: alice.email, user.id: user.email} | {
                other.id: None for other in (bob, carol) if other is not user
            }
        got = (await user.get(f"{LISTS}/{list_id}")).json()
        assert (got["role"], got["owner_id"]) == (role, alice.id)
        assert list_id in [row["id"] for row in (await user.get(LISTS)).json()]
    stranger = await user_factory()
    assert (await stranger.get(f"{LISTS}/{list_id}/members")).status_code == 404


async def test_each_roles_rights(alice: User, bob: User, user_factory):
    carol = await user_factory()
    list_id = await shared_list(alice, {bob: "editor", carol: "viewer"})
    stranger = await user_factory()
    base = f"{LISTS}/{list_id}"
    calls = [
        ("PATCH", f"{base}/members/{carol.id}", {"role": "editor"}),
        ("DELETE", f"{base}/members/{carol.id}", None),
        ("POST", f"{base}/transfer", {"user_id": carol.id}),
        ("POST", f"{base}/invitations", {"role": "viewer"}),
        ("GET", f"{base}/invitations", None),
        ("PATCH", base, {"name": "renamed"}),
        ("POST", f"{base}/move", {}),
        ("DELETE", base, None),
    ]
    for user, status in ((bob, 403), (carol, 403), (stranger, 404)):
        for method, path, body in calls:
            kwargs = {} if body is None else {"json": body}
            answer = await user.request(method, path, **kwargs)
            assert answer.status_code == status, (user.id, method, path, answer.text)
    # Nothing changed: the members, their roles, the list.
    seen = (await alice.get(f"{base}/members")).json()
    assert [m["role"] for m in seen] == ["owner", "editor", "viewer"]
    assert (await alice.get(base)).json()["name"] == "Groceries"
    assert len((await alice.get(f"{base}/invitations")).json()) == 2  # those they joined by
    # The editor writes tasks, the viewer reads them.
    task = await bob.create(title="eggs", list_id=list_id)
    assert (await carol.get(f"{TASKS}/{task['id']}")).status_code == 200
    assert (await carol.patch(f"{TASKS}/{task['id']}", json={"title": "x"})).status_code == 403
    # The owner changes a role, removes a member; a member who is not there is a 404.
    promoted = await alice.patch(f"{base}/members/{carol.id}", json={"role": "editor"})
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["role"] == "editor" and promoted.json()["email"] == carol.email
    assert (await carol.patch(f"{TASKS}/{task['id']}", json={"title": "x"})).status_code == 200
    refused = await alice.patch(f"{base}/members/{carol.id}", json={"role": "owner"})
    assert refused.status_code == 422
    assert (await alice.delete(f"{base}/members/{carol.id}")).status_code == 204
    assert (await alice.delete(f"{base}/members/{carol.id}")).status_code == 404
    assert (
        await alice.patch(f"{base}/members/{carol.id}", json={"role": "viewer"})
    ).status_code == 404
    assert (await carol.get(base)).status_code == 404
    assert (await carol.get(f"{TASKS}/{task['id']}")).status_code == 404


async def test_transfer_hands_over_the_list_and_its_tasks(alice: User, bob: User, user_factory, db):
    carol = await user_factory()
    list_id = await shared_list(alice, {bob: "viewer", carol: "editor"})
    base = f"{LISTS}/{list_id}"
    mine = await alice.create(title="milk", list_id=list_id)
    await alice.create(title="sub", list_id=list_id, parent_id=mine["id"])
    await carol.create(title="eggs", list_id=list_id)
    await alice.post(f"{base}/invitations", json={"role": "viewer"})
    refused = await alice.post(f"{base}/transfer", json={"user_id": alice.id})
    assert refused.status_code == 422 and refused.json()["errors"][0]["loc"] == ["body", "user_id"]
    stranger = await user_factory()
    refused = await alice.post(f"{base}/transfer", json={"user_id": stranger.id})
    assert refused.status_code == 422

    handed = await alice.post(f"{base}/transfer", json={"user_id": bob.id})
    assert handed.status_code == 200, handed.text
    assert (handed.json()["owner_id"], handed.json()["role"]) == (bob.id, "editor")
    owners = await db.fetch(
        "SELECT DISTINCT user_id FROM tasks WHERE list_id = $1"
        " UNION SELECT user_id FROM list_members WHERE list_id = $1"
        " UNION SELECT user_id FROM list_invitations WHERE list_id = $1",
        list_id,
    )
    assert [r["user_id"] for r in owners] == [bob.id]
    seen = (await bob.get(f"{base}/members")).json()
    assert {m["user_id"]: m["role"] for m in seen} == {
        bob.id: "owner",
        alice.id: "editor",
        carol.id: "editor",
    }
    assert (await bob.get(base)).json()["role"] == "owner"
    assert len((await bob.get(TASKS, params={"list_id": list_id})).json()) == 3
    assert len((await alice.get(TASKS, params={"list_id": list_id})).json()) == 3
    # The old owner is an editor now: writes tasks, manages nothing, may leave.
    assert (await alice.patch(f"{TASKS}/{mine['id']}", json={"title": "oat"})).status_code == 200
    assert (await alice.post(f"{base}/invitations", json={"role": "viewer"})).status_code == 403
    assert (await alice.get(f"{base}/invitations")).status_code == 403
    assert len((await bob.get(f"{base}/invitations")).json()) == 3  # followed the list
    # The new owner cannot leave; the old one can.
    assert (await bob.delete(f"{base}/members/me")).status_code == 409
    assert (await alice.delete(f"{base}/members/me")).status_code == 204
    assert (await alice.get(base)).status_code == 404
    assert (await alice.delete(f"{base}/members/me")).status_code == 404


async def test_the_default_list_cannot_be_shared_nor_handed_over(alice: User, bob: User, db):
    default = (await alice.get(LISTS)).json()[0]
    assert default["is_default"] and default["role"] == "owner"
    base = f"{LISTS}/{default['id']}"
    assert (await alice.post(f"{base}/invitations", json={"role": "editor"})).status_code == 409
    # Even with a member written behind the API's back, no transfer.
    await db.execute(
        "INSERT INTO list_members (list_id, user_id, member_id, role) VALUES ($1, $2, $3, 'editor')",
        default["id"],
        alice.id,
        bob.id,
    )
    refused = await alice.post(f"{base}/transfer", json={"user_id": bob.id})
    assert refused.status_code == 409, refused.text
    assert (await alice.get(base)).json()["owner_id"] == alice.id
    assert (await alice.delete(f"{base}/members/me")).status_code == 409


async def test_removal_and_leaving_are_seen_at_once_by_another_instance(
    alice: User, bob: User, user_factory, make_client
):
    carol = await user_factory()
    list_id = await shared_list(alice, {bob: "editor", carol: "viewer"})
    task = await alice.create(title="milk", list_id=list_id)
    other = await make_client(enabled=QUIET)  # a second app on the same database
    bob_there = User(bob.id, bob.email, bob.token, other)
    carol_there = User(carol.id, carol.email, carol.token, other)
    assert (await bob_there.get(f"{TASKS}/{task['id']}")).status_code == 200
    assert (await carol_there.get(f"{LISTS}/{list_id}")).status_code == 200

    assert (await alice.delete(f"{LISTS}/{list_id}/members/{bob.id}")).status_code == 204
    assert (await bob_there.get(f"{TASKS}/{task['id']}")).status_code == 404
    assert (await bob_there.get(f"{LISTS}/{list_id}")).status_code == 404
    assert (await bob_there.patch(f"{TASKS}/{task['id']}", json={"title": "x"})).status_code == 404

    assert (await carol.delete(f"{LISTS}/{list_id}/members/me")).status_code == 204
    assert (await carol_there.get(f"{LISTS}/{list_id}")).status_code == 404
    assert (await carol_there.get(f"{LISTS}/{list_id}/members")).status_code == 404
    assert (await carol_there.get(TASKS, params={"list_id": list_id})).json() == []
