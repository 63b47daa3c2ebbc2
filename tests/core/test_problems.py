"""Task: T-010, T-255
Spec: specs/api/rest-endpoints.md §Errors
"""

import logging

from app.core.app import API_PREFIX
from tests.core.plugins_for_tests import PASSWORD, Probe, TokenAuth

PROBLEM = "application/problem+json"


async def test_unexpected_errors_are_a_500_with_a_request_id(make_client, caplog):
    client = await make_client(
        enabled=("health",), extra={"testauth": TokenAuth(), "probe": Probe()}
    )
    with caplog.at_level(logging.ERROR, logger="todo_api"):
        response = await client.get(f"{API_PREFIX}/probe/crash")
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    request_id = response.headers["x-request-id"]
    assert body["request_id"] == request_id and request_id in body["detail"]
    assert PASSWORD not in response.text and "RuntimeError" not in response.text
    assert request_id in caplog.text and "RuntimeError: secret internals" in caplog.text


async def test_validation_errors_list_fields_without_echoing_input(make_client):
    client = await make_client(
        enabled=("health", "changes", "jobs", "notes"), extra={"testauth": TokenAuth()}
    )
    secret = "s3cr3t-value-never-echoed"
    response = await client.post(
        f"{API_PREFIX}/notes",
        json={"body": {"password": secret}},
        headers={"Authorization": "Bearer good-ada"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert secret not in response.text
    body = response.json()
    assert isinstance(body["detail"], str)
    assert body["errors"][0]["loc"] == ["body", "body"]
    assert set(body["errors"][0]) == {"loc", "msg", "type"}


async def test_a_422_lists_at_most_20_errors_and_says_how_many_more(make_client):
    client = await make_client(
        enabled=("health",), extra={"testauth": TokenAuth(), "probe": Probe()}
    )
    unknown = {f"unknown_{i}": i for i in range(50)}
    response = await client.post(f"{API_PREFIX}/probe/strict", json=unknown)
    assert response.status_code == 422
    body = response.json()
    assert len(body["errors"]) == 20
    assert body["detail"].endswith("(30 more errors not listed)")


async def test_a_422_cuts_long_field_names(make_client):
    client = await make_client(
        enabled=("health",), extra={"testauth": TokenAuth(), "probe": Probe()}
    )
    response = await client.post(f"{API_PREFIX}/probe/strict", json={"k" * 10_000: 1})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "k" * 64 + "…"]
    assert len(response.content) < 1_000


async def test_unknown_paths_and_methods_are_problems(client):
    missing = await client.get(f"{API_PREFIX}/nothing-here")
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
    wrong = await client.delete(f"{API_PREFIX}/health")
    assert wrong.status_code == 405 and wrong.headers["content-type"] == PROBLEM
    assert wrong.json()["detail"] == "Method Not Allowed"


async def test_every_response_has_a_request_id(client):
    first = await client.get(f"{API_PREFIX}/health")
    second = await client.get(f"{API_PREFIX}/health")
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_a_json_body_without_its_content_type_is_a_415(make_client):
    client = await make_client(
        enabled=("health", "changes", "jobs", "notes"), extra={"testauth": TokenAuth()}
    )
    auth = {"Authorization": "Bearer good-ada"}
    notes = f"{API_PREFIX}/notes"
    for sent in (
        {},
        {"Content-Type": "text/plain"},
        {"Content-Type": "application/x-www-form-urlencoded"},
    ):
        response = await client.post(notes, content=b'{"body": "a note"}', headers=auth | sent)
        assert response.status_code == 415, response.text
        assert response.headers["content-type"] == PROBLEM
        detail = response.json()["detail"]
        assert "Send the body as JSON with `Content-Type: application/json`" in detail
        assert ("text/plain" in detail) == (sent.get("Content-Type") == "text/plain")
    json = {"Content-Type": "application/json; charset=utf-8"}
    created = await client.post(notes, content=b'{"body": "a note"}', headers=auth | json)
    assert created.status_code == 201, created.text
    # No body at all is the body's own mistake, whatever the header: 422 naming it.
    empty = await client.post(notes, headers=auth)
    assert empty.status_code == 422
    assert empty.json()["errors"][0]["loc"] == ["body"]
    # A JSON body of the wrong shape, sent as JSON, is still a 422.
    wrong = await client.post(notes, json={"body": ""}, headers=auth)
    assert wrong.status_code == 422


async def test_a_form_route_takes_its_form(make_client):
    client = await make_client(enabled=("health", "auth"))
    response = await client.post(f"{API_PREFIX}/auth/token", data={"username": "a@example.com"})
    assert response.status_code == 422, response.text  # the missing password, not a 415
    document = (await client.get(f"{API_PREFIX}/openapi.json")).json()
    assert "415" not in document["paths"][f"{API_PREFIX}/auth/token"]["post"]["responses"]
