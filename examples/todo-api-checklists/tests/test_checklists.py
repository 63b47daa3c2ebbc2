"""The checklists plugin, through its API, on a real PostgreSQL (the todo-api test kit)."""

from fastapi import FastAPI

from app.core import ApiUser, AppClient, MakeUser, assert_isolated

PATH = "/api/v1/checklists"


async def create(user: ApiUser) -> dict[str, str]:
    """A new checklist of `user`; the path parameters that locate it."""
    response = await user.post(PATH, json={"title": "first"})
    assert response.status_code == 201, response.text
    return {"checklist_id": response.json()["id"]}


async def test_create_list_change_delete(make_user: MakeUser) -> None:
    user = await make_user()
    created = await user.post(PATH, json={"title": "first"})
    assert created.status_code == 201, created.text
    item = created.json()
    assert item["done"] is False and item["created_at"].endswith("Z")
    assert (await user.get(PATH)).json() == [item]

    changed = await user.patch(f"{PATH}/{item['id']}", json={"done": True})
    assert changed.json() == {**item, "done": True}
    assert (await user.delete(f"{PATH}/{item['id']}")).status_code == 204
    assert (await user.get(f"{PATH}/{item['id']}")).status_code == 404


async def test_routes_need_a_token(client: AppClient) -> None:
    response = await client.get(PATH)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


async def test_bad_bodies_are_422(make_user: MakeUser) -> None:
    user = await make_user()
    for body in ({}, {"title": ""}, {"title": "x", "user_id": "someone"}):
        assert (await user.post(PATH, json=body)).status_code == 422


async def test_another_user_can_neither_see_nor_change_them(
    app: FastAPI, make_user: MakeUser
) -> None:
    checked = await assert_isolated(
        app,
        await make_user(),
        await make_user(),
        plugin="checklists",
        create=create,
        body={"title": "hijacked", "done": True},
        detail="Checklist not found",
    )
    assert len(checked.unreachable) == 3  # GET, PATCH and DELETE /{checklist_id}
    assert checked.lists == [PATH]
