"""Task: T-070
Spec: specs/api/rest-endpoints.md §Headers, §Errors; specs/features/plugins.md §Assembly
"""

import httpx
import pytest

from app.core.app import API_PREFIX
from tests.core.plugins_for_tests import Probe, TokenAuth

ORIGIN = "https://app.example"
PREFLIGHT = {
    "Origin": ORIGIN,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization",
}


@pytest.fixture
async def probe(make_client):
    return await make_client(
        enabled=("health", "auth"),
        extra={"testauth": TokenAuth(), "probe": Probe()},
        allowed_origins=[ORIGIN],
    )


async def test_a_well_formed_client_request_id_is_kept(probe):
    sent = "trace-1234:abcd.EF_5"
    response = await probe.get(f"{API_PREFIX}/health", headers={"X-Request-ID": sent})
    assert response.headers.get_list("x-request-id") == [sent]


@pytest.mark.parametrize("sent", ["", "x" * 129, "two words", "new\\nline", "semi;colon"])
async def test_a_malformed_client_request_id_is_replaced(probe, sent):
    response = await probe.get(f"{API_PREFIX}/health", headers={"X-Request-ID": sent})
    (given,) = response.headers.get_list("x-request-id")
    assert given != sent and len(given) == 32


async def test_preflights_carry_a_request_id_and_nosniff(probe):
    response = await probe.options(f"{API_PREFIX}/probe/whoami", headers=PREFLIGHT)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["x-request-id"]
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("path", "status"), [("/health", 200), ("/nowhere", 404), ("/probe/crash", 500)]
)
async def test_every_answer_is_nosniff_and_readable_cross_origin(probe, path, status):
    response = await probe.get(f"{API_PREFIX}{path}", headers={"Origin": ORIGIN})
    assert response.status_code == status
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "x-request-id" in response.headers["access-control-expose-headers"].lower()


@pytest.mark.parametrize("headers", [{}, {"Origin": ORIGIN}, {"Origin": "https://evil.example"}])
async def test_answers_say_they_vary_by_origin(probe, headers):
    # Shared caches must not serve an answer made for one origin (or none) to another.
    response = await probe.get(f"{API_PREFIX}/health", headers=headers)
    assert response.headers["vary"].count("Origin") == 1


async def test_an_unexpected_error_is_answered_not_raised(make_client):
    # Raising out of the app is what makes a server drop the connection after a 500.
    client = await make_client(
        enabled=("health",), extra={"testauth": TokenAuth(), "probe": Probe()}
    )
    app = client._transport.app  # type: ignore[attr-defined]
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as strict:
        response = await strict.get(f"{API_PREFIX}/probe/crash")
    assert response.status_code == 500
    assert response.json()["request_id"] == response.headers["x-request-id"]


async def test_answers_to_credentialed_requests_are_not_stored(probe):
    ok = await probe.get(f"{API_PREFIX}/probe/whoami", headers={"Authorization": "Bearer good-a"})
    refused = await probe.get(f"{API_PREFIX}/probe/whoami", headers={"Authorization": "Bearer x"})
    assert (ok.status_code, refused.status_code) == (200, 401)
    assert ok.headers.get_list("cache-control") == ["no-store"]
    assert refused.headers.get_list("cache-control") == ["no-store"]
    assert "cache-control" not in (await probe.get(f"{API_PREFIX}/health")).headers


async def test_auth_answers_are_not_stored(probe):
    login = {"email": "nobody@example.com", "password": "wrong password"}
    refused = await probe.post(f"{API_PREFIX}/auth/login", json=login)
    assert refused.status_code == 401
    assert refused.headers["cache-control"] == "no-store"


async def test_hsts_is_off_unless_configured(probe, make_client):
    assert "strict-transport-security" not in (await probe.get(f"{API_PREFIX}/health")).headers
    client = await make_client(enabled=("health",), hsts_seconds=31_536_000)
    response = await client.get(f"{API_PREFIX}/nowhere")
    assert response.headers["strict-transport-security"] == "max-age=31536000"


async def test_a_database_outage_is_a_503_readable_cross_origin(make_client):
    # Its handler is keyed by class, so it runs inside the edge: CORS, id and headers included.
    probe = await make_client(
        enabled=("health",),
        extra={"testauth": TokenAuth(), "probe": Probe()},
        url="postgresql://nobody:nothing@127.0.0.1:1/nowhere",
        allowed_origins=[ORIGIN],
    )
    response = await probe.get(f"{API_PREFIX}/probe/bad-query", headers={"Origin": ORIGIN})
    assert response.status_code == 503 and response.headers["retry-after"] == "1"
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["x-request-id"] and response.headers["x-content-type-options"]
