"""Task: T-452
Spec: specs/features/plugins.md §Assembly

A `Part` answers every request as the plain router it stands for would: the routes it passes
over at once are only those that could not have matched.
"""

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from app.core.http.part import Part

PREFIX = "/api/v1"


def routes() -> APIRouter:
    router = APIRouter()

    @router.get("/tasks")
    async def listed() -> str:
        return "list"

    @router.get("/tasks/{task_id}")
    async def got(task_id: int) -> int:
        return task_id

    @router.post("/{kind}/archive")  # a parameter first: any path under the prefix may match
    async def archived(kind: str) -> str:
        return kind

    return router


def app(part: bool) -> FastAPI:
    made = FastAPI(redirect_slashes=False)
    router = routes()
    included = Part(router.routes, PREFIX) if part else router
    made.include_router(included, prefix=PREFIX)
    fallback = APIRouter()

    @fallback.get("/{rest:path}")
    async def anything(rest: str) -> str:
        return f"fallback {rest}"

    made.include_router(Part(fallback.routes, ""))
    return made


REQUESTS = [
    ("GET", "/api/v1/tasks"),
    ("GET", "/api/v1/tasks/7"),
    ("GET", "/api/v1/tasks/seven"),  # the pattern matches, the convertor refuses: 422
    ("DELETE", "/api/v1/tasks"),  # the path matches, the method not: 405
    ("POST", "/api/v1/lists/archive"),
    ("GET", "/api/v1/Tasks"),
    ("GET", "/api/v1/tasksx"),
    ("GET", "/api/v2/tasks"),
    ("GET", "/"),
]


@pytest.mark.parametrize(("method", "path"), REQUESTS)
@pytest.mark.parametrize("root_path", ["", "/behind/a/proxy"])
async def test_a_part_answers_as_the_plain_router(method: str, path: str, root_path: str) -> None:
    answers = []
    for part in (False, True):
        transport = httpx.ASGITransport(app=app(part), root_path=root_path)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.request(method, root_path + path)
            answers.append((response.status_code, response.text))
    assert answers[0] == answers[1]


def test_a_parts_starts_are_its_routes_literal_parts() -> None:
    part = Part(routes().routes, PREFIX)
    assert part.starts == ("/api/v1/", "/api/v1/tasks", "/api/v1/tasks/")
