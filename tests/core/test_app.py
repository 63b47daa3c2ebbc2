"""Task: T-011
Spec: specs/features/plugins.md §Assembly
"""

from app.core.app import API_PREFIX


async def test_liveness_answers_ok(client):
    response = await client.get(f"{API_PREFIX}/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readiness_checks_database_and_migrations(client):
    response = await client.get(f"{API_PREFIX}/health/ready")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ok"
