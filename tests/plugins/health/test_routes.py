"""Task: T-014
Spec: specs/api/rest-endpoints.md §Health
"""

from tests.core.plugins_for_tests import Failing

READY = "/api/v1/health/ready"


async def test_liveness_does_not_touch_the_database(make_client):
    client = await make_client(url="postgresql://nobody:nothing@127.0.0.1:1/nowhere")
    assert (await client.get("/api/v1/health")).json() == {"status": "ok"}


async def test_ready_when_database_and_migrations_are_fine(client):
    response = await client.get(READY)
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "migrations": "at head",
        # the jobs plugin's stuck-queue and held-jobs checks, the changes plugin's set-aside one
        "checks": 3,
        "counts": {"held_jobs": 0, "set_aside_changes": 0},
    }


async def test_unreachable_database_is_503(make_client):
    client = await make_client(url="postgresql://nobody:nothing@127.0.0.1:1/nowhere")
    response = await client.get(READY)
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "database unreachable"
    assert response.headers["retry-after"] == "5"
    assert "nothing" not in response.text and "127.0.0.1" not in response.text


async def test_migrations_behind_is_503_naming_the_plugins(make_client, empty_database_url):
    client = await make_client(url=empty_database_url)
    response = await client.get(READY)
    assert response.status_code == 503
    assert "migrations not at head for: auth, changes, jobs, tasks" in response.json()["detail"]
    assert response.headers["retry-after"] == "5"


async def test_plugin_readiness_checks_are_run(make_client):
    client = await make_client(extra={"queue": Failing()})
    response = await client.get(READY)
    assert response.status_code == 503
    assert response.json()["detail"] == "queue backlog too long"
    assert response.headers["retry-after"] == "5"
