"""Task: T-071
Spec: specs/api/rest-endpoints.md §Limits
"""

import json
from collections.abc import AsyncIterator

import pytest

from app.core.app import API_PREFIX
from tests.core.plugins_for_tests import Probe, TokenAuth

PROBE = f"{API_PREFIX}/probe"
ORIGIN = "https://app.example"


@pytest.fixture
async def probe(make_client):
    # A small default, so that bodies over it stay cheap to send.
    return await make_client(
        enabled=("health",),
        extra={"testauth": TokenAuth(), "probe": Probe()},
        max_body_bytes=1000,
        allowed_origins=[ORIGIN],
    )


class Chunks:
    """A request body sent in pieces without a Content-Length, counting the pieces taken."""

    def __init__(self, pieces: int, size: int = 100) -> None:
        self.pieces, self.size, self.taken = pieces, size, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.pieces):
            self.taken += 1
            yield b" " * self.size


def assert_too_large(response, limit: int) -> None:
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == f"Request body too large: at most {limit} bytes"
    assert response.headers["connection"] == "close"


async def test_a_body_within_the_default_limit_is_taken(probe):
    body = json.dumps({"size": 1}).ljust(1000)
    response = await probe.post(
        f"{PROBE}/strict", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200


async def test_a_declared_length_over_the_limit_is_refused_unread(probe):
    body = Chunks(pieces=11)
    response = await probe.post(f"{PROBE}/strict", content=body, headers={"Content-Length": "1100"})
    assert_too_large(response, 1000)
    assert body.taken == 0


async def test_a_body_without_a_length_is_refused_once_past_the_limit(probe):
    body = Chunks(pieces=1000)
    response = await probe.post(f"{PROBE}/strict", content=body)
    assert_too_large(response, 1000)
    assert body.taken == 11  # 1,100 bytes: the piece that crossed the limit, and no more


async def test_a_route_declares_a_smaller_limit(probe):
    assert (await probe.post(f"{PROBE}/tiny", json={"size": 1})).status_code == 200
    assert_too_large(await probe.post(f"{PROBE}/tiny", json={"size": 10**20}), 16)


async def test_a_route_declares_a_larger_limit(probe):
    body = {"x": "y" * 3000}
    assert (await probe.post(f"{PROBE}/roomy", json=body)).status_code == 200
    assert_too_large(await probe.post(f"{PROBE}/strict", json=body), 1000)
    assert_too_large(await probe.post(f"{PROBE}/roomy", content=Chunks(pieces=51)), 5000)


async def test_a_length_over_every_limit_is_refused_before_routing(probe):
    # This route reads no body at all: only the up-front check stands in the way.
    response = await probe.request("GET", f"{API_PREFIX}/health", content=b" " * 5001)
    assert_too_large(response, 5000)


async def test_auth_takes_64_kib_whatever_the_default(make_client):
    client = await make_client(max_body_bytes=10 * 1024 * 1024)
    password = "p" * (64 * 1024)
    response = await client.post(
        f"{API_PREFIX}/auth/login", json={"email": "a@example.com", "password": password}
    )
    assert_too_large(response, 64 * 1024)


async def test_a_refusal_is_readable_cross_origin(probe):
    response = await probe.post(
        f"{PROBE}/strict", content=Chunks(pieces=20), headers={"Origin": ORIGIN}
    )
    assert response.status_code == 413
    assert response.headers["access-control-allow-origin"] == ORIGIN


async def test_at_most_100_query_parameters(probe):
    health = f"{API_PREFIX}/health"
    assert (await probe.get(health, params=[("p", "1")] * 100)).status_code == 200
    response = await probe.get(health, params=[("p", "1")] * 101)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "Too many query parameters: at most 100"
