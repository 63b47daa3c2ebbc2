"""Task: T-011, T-443, T-449
Spec: specs/features/plugins.md §Assembly
"""

import pytest
from fastapi import APIRouter
from fastapi.routing import iter_route_contexts

from app.core import Context, hookimpl, matched_first, public, well_known
from app.core.app import API_PREFIX, create_app
from app.core.errors import ConfigError
from app.core.plugins.loading import load
from app.core.plugins.plugins_file import PluginsFile
from app.testing import settings_for
from tests.core.plugins_for_tests import Probe, TokenAuth

PROBE = f"{API_PREFIX}/probe"


@pytest.fixture
async def probe(make_client):
    return await make_client(
        enabled=("health", "changes", "jobs", "notes"),
        extra={"testauth": TokenAuth(), "probe": Probe()},
    )


def test_every_route_is_under_api_v1(tmp_path):
    settings = settings_for("postgresql://u:p@localhost/x", tmp_path)
    app = create_app(
        settings,
        load(
            settings, PluginsFile(enabled=("health", "auth", "changes", "jobs", "tasks", "notes"))
        ),
    )
    paths = [route.path for route in iter_route_contexts(app.routes) if route.path]
    assert paths and all(path.startswith(f"{API_PREFIX}/") for path in paths)


def test_only_public_well_known_routes_leave_api_v1(tmp_path):
    settings = settings_for("postgresql://u:p@localhost/x", tmp_path)
    enabled = PluginsFile(enabled=("health", "auth", "changes", "jobs", "tasks", "mcp"))
    app = create_app(settings, load(settings, enabled))
    outside = {
        route.path
        for route in iter_route_contexts(app.routes)
        if route.path and not route.path.startswith(f"{API_PREFIX}/")
    }
    assert outside == {
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/api/v1/mcp",
    }
    plugins = PluginsFile(enabled=("health", "auth"))
    for path, open_ in (("/elsewhere", True), ("/.well-known/secret", False)):
        with pytest.raises(ConfigError, match=r"only a public route under /\.well-known/"):
            create_app(settings, load(settings, plugins, extra={"rooted": Rooted(path, open_)}))


class Rooted:
    """Mounts one route marked `@well_known` at `path`, public or not."""

    def __init__(self, path: str, open_: bool) -> None:
        self.path, self.open = path, open_

    @hookimpl
    def routers(self, context: Context) -> list[APIRouter]:
        async def endpoint() -> dict[str, str]:
            return {}

        router = APIRouter()
        router.add_api_route(self.path, well_known(public(endpoint) if self.open else endpoint))
        return [router]


def test_a_route_marked_matched_first_is_looked_for_before_all_others(tmp_path):
    settings = settings_for("postgresql://u:p@localhost/x", tmp_path)
    enabled = PluginsFile(enabled=("health", "auth", "changes", "jobs", "tasks", "mcp"))
    app = create_app(settings, load(settings, enabled))
    # The MCP endpoint, its plugin mounted last, heads the app's routes.
    assert [route.path for route in iter_route_contexts(app.routes[:1])] == [f"{API_PREFIX}/mcp"]
    plugins = PluginsFile(enabled=("health", "auth"))
    with pytest.raises(ConfigError, match=r"/first/\{id\}: only a path with no param"):
        create_app(settings, load(settings, plugins, extra={"first": First("/first/{id}")}))
    app = create_app(settings, load(settings, plugins, extra={"first": First("/first")}))
    assert [route.path for route in iter_route_contexts(app.routes[:1])] == [f"{API_PREFIX}/first"]


class First:
    """Mounts one public route marked `@matched_first` at `path`."""

    def __init__(self, path: str) -> None:
        self.path = path

    @hookimpl
    def routers(self, context: Context) -> list[APIRouter]:
        async def endpoint() -> dict[str, str]:
            return {}

        router = APIRouter()
        router.add_api_route(self.path, matched_first(public(endpoint)))
        return [router]


async def test_openapi_and_offline_docs(client):
    schema = (await client.get(f"{API_PREFIX}/openapi.json")).json()
    assert f"{API_PREFIX}/health" in schema["paths"]
    assert f"{API_PREFIX}/tasks" in schema["paths"]
    docs = await client.get(f"{API_PREFIX}/docs")
    assert docs.status_code == 200
    assert "cdn" not in docs.text.lower() and "https://" not in docs.text
    assert f"{API_PREFIX}/docs/static/swagger-ui-bundle.js" in docs.text
    script = await client.get(f"{API_PREFIX}/docs/static/swagger-ui-bundle.js")
    assert script.status_code == 200 and len(script.content) > 100_000


async def test_offline_redoc(client):
    redoc = await client.get(f"{API_PREFIX}/redoc")
    assert redoc.status_code == 200
    assert "https://" not in redoc.text  # no CDN script, no Google fonts
    assert f"{API_PREFIX}/docs/static/redoc.standalone.js" in redoc.text
    assert f'spec-url="{API_PREFIX}/openapi.json"' in redoc.text
    script = await client.get(f"{API_PREFIX}/docs/static/redoc.standalone.js")
    assert script.status_code == 200 and len(script.content) > 100_000


async def test_liveness_answers_ok(client):
    response = await client.get(f"{API_PREFIX}/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_routes_that_did_not_ask_are_protected(probe):
    for path in ("/whoami", "/implicit"):
        response = await probe.get(f"{PROBE}{path}")
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        body = response.json()
        assert response.headers["content-type"] == "application/problem+json"
        assert body["status"] == 401 and isinstance(body["detail"], str)
    assert (
        await probe.get(f"{PROBE}/implicit", headers={"Authorization": "Bearer good-ada"})
    ).status_code == 200


async def test_the_authenticator_tells_who_is_calling(probe):
    response = await probe.get(f"{PROBE}/whoami", headers={"Authorization": "Bearer good-ada"})
    assert response.json() == {"id": "ada"}
    refused = await probe.get(f"{PROBE}/whoami", headers={"Authorization": "Bearer expired"})
    assert refused.status_code == 401 and refused.json()["detail"] == "Token expired"
    nobody = await probe.get(f"{PROBE}/whoami", headers={"Authorization": "Bearer who-knows"})
    assert nobody.status_code == 401 and nobody.json()["detail"] == "Invalid token"
    in_query = await probe.get(f"{PROBE}/whoami", params={"access_token": "good-ada"})
    assert in_query.status_code == 401


async def test_public_routes_stay_open(probe):
    assert (await probe.get(f"{PROBE}/open")).status_code == 200
    assert (await probe.get(f"{API_PREFIX}/health")).status_code == 200


async def test_third_party_plugin_gets_the_shared_authentication(probe):
    assert (await probe.get(f"{API_PREFIX}/notes")).status_code == 401
    ada = {"Authorization": "Bearer good-ada"}
    bob = {"Authorization": "Bearer good-bob"}
    assert (
        await probe.post(f"{API_PREFIX}/notes", json={"body": "hello"}, headers=ada)
    ).status_code == 201
    assert [n["body"] for n in (await probe.get(f"{API_PREFIX}/notes", headers=ada)).json()] == [
        "hello"
    ]
    assert (await probe.get(f"{API_PREFIX}/notes", headers=bob)).json() == []


def test_protected_routes_without_an_authenticator_stop_start_up(tmp_path):
    settings = settings_for("postgresql://u:p@localhost/x", tmp_path)
    with pytest.raises(ConfigError, match=r"no authentication plugin is enabled: add \"auth\""):
        create_app(
            settings, load(settings, PluginsFile(enabled=("health", "changes", "jobs", "notes")))
        )


def test_disabled_plugin_routes_are_gone(tmp_path):
    settings = settings_for("postgresql://u:p@localhost/x", tmp_path)
    app = create_app(settings, load(settings, PluginsFile(enabled=("health",))))
    routes = iter_route_contexts(app.routes)
    assert {r.path for r in routes if getattr(r, "include_in_schema", False)} == {
        f"{API_PREFIX}/health",
        f"{API_PREFIX}/health/ready",
    }


@pytest.mark.parametrize(
    ("plugin", "path"),
    [
        ("quickadd", "/tasks/quick"),
        ("calendar", "/calendar/feeds"),
        ("mcp", "/mcp"),
        ("reminders", "/reminders/inbox"),
        ("webhooks", "/webhooks"),
    ],
)
def test_each_optional_builtin_can_be_switched_off_alone(tmp_path, plugin, path):
    # Nothing else requires it: the others start without it, and its routes are gone.
    settings = settings_for("postgresql://u:p@localhost/x", tmp_path)
    enabled = tuple(name for name in PluginsFile().enabled if name != plugin)
    app = create_app(settings, load(settings, PluginsFile(enabled=enabled)))
    paths = {route.path for route in iter_route_contexts(app.routes)}
    assert API_PREFIX + path not in paths and f"{API_PREFIX}/tasks" in paths


async def test_disabled_plugin_answers_404(make_client):
    client = await make_client(enabled=("health",))
    response = await client.get(f"{API_PREFIX}/tasks")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_cors_allows_configured_origins_only(make_client):
    client = await make_client(allowed_origins=["https://app.example"])
    preflight = {
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    }
    allowed = await client.options(
        f"{API_PREFIX}/tasks", headers={"Origin": "https://app.example", **preflight}
    )
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    denied = await client.options(
        f"{API_PREFIX}/tasks", headers={"Origin": "https://evil.example", **preflight}
    )
    assert "access-control-allow-origin" not in denied.headers
