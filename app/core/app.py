"""Task: T-011, T-150, T-153, T-221, T-244, T-400, T-441, T-449
Spec: specs/features/plugins.md §Assembly; specs/features/authentication.md §Scopes

`create_app(settings)`: the whole app, assembled from the enabled plugins.
"""

import gc
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from app.core import redaction
from app.core.db.pool import Database
from app.core.db.urls import database_url, engine_options
from app.core.errors import ConfigError
from app.core.http import docs, edge, fallback, openapi, problems
from app.core.http.dependencies import AUTHENTICATING, current_user
from app.core.http.marks import (
    WELL_KNOWN,
    is_matched_first,
    is_public,
    is_well_known,
    owned_by,
)
from app.core.plugins.context import Context
from app.core.plugins.loading import load, per_plugin
from app.core.settings import Settings

API_PREFIX = "/api/v1"
VERSION = version("todo-api")


def create_app(settings: Settings | None = None, context: Context | None = None) -> FastAPI:
    redaction.install()  # also here: uvicorn's workers build the app without the CLI
    settings = settings or Settings()
    context = context or load(settings)

    lifespans = context.collect("lifespan")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        options = engine_options(database_url(settings), settings.database_pool_mode)
        database = await Database.open(
            options, settings.database_pool_size, settings.database_statement_cache
        )
        app.state.database = database
        try:
            async with AsyncExitStack() as stack:
                # What a plugin opens for the whole process (a client) goes here, and closes
                # after every plugin's lifespan: a job worker one of them stops lets its running
                # jobs finish with it open.
                app.state.resources = await stack.enter_async_context(AsyncExitStack())
                for plugin_lifespan in lifespans:
                    await stack.enter_async_context(plugin_lifespan(app))
                # Everything built so far (modules, routes, models, compiled schemas) lives as
                # long as the app: out of the collector's sight, a full collection no longer
                # walks it, which kept the slowest requests waiting (gc.freeze, Instagram's way).
                gc.collect()
                gc.freeze()
                yield
        finally:
            await database.close()

    app = FastAPI(
        title="Todo API",
        version=VERSION,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        generate_unique_id_function=openapi.operation_id,
        # `/tasks/` is no route: a 404, not a redirect to an absolute http:// URL.
        redirect_slashes=False,
    )
    app.state.context = context
    app.state.authenticators = context.collect("authenticator")

    problems.install(app)
    for plugin, routers in per_plugin(context.hook.routers, context=context):
        for router in routers or ():
            mount(app, router, bool(app.state.authenticators), settings.plugins_file, plugin)
    docs.mount(app, API_PREFIX)
    fallback.install(app, API_PREFIX)
    openapi.install(app)
    edge.install(app, settings)
    return app


def mount(
    app: FastAPI, router: APIRouter, protected: bool, plugins_file: Path, plugin: str
) -> None:
    """Include `plugin`'s `router` under /api/v1, adding `CurrentUser` to every route not
    marked public; a route's default scopes are named after `plugin`. A public route marked
    `well_known` is mounted at the root instead."""
    rooted = [route for route in router.routes if is_well_known(getattr(route, "endpoint", None))]
    for route in rooted:
        path = getattr(route, "path", "?")
        if not (path.startswith(WELL_KNOWN) and is_public(getattr(route, "endpoint", None))):
            raise ConfigError(f"{path}: only a public route under {WELL_KNOWN} may leave /api/v1")
    if rooted:
        app.include_router(APIRouter(routes=rooted))
    open_routes = [
        route
        for route in router.routes
        if route not in rooted and is_public(getattr(route, "endpoint", None))
    ]
    closed_routes = [r for r in router.routes if r not in open_routes and r not in rooted]
    for route in closed_routes:
        if hasattr(route, "endpoint"):
            owned_by(plugin, route.endpoint)
    if closed_routes and not protected:
        paths = ", ".join(sorted({getattr(r, "path", "?") for r in closed_routes}))
        raise ConfigError(
            f"protected routes ({paths}) but no authentication plugin is enabled: "
            f'add "auth" to [plugins] enabled in {plugins_file}'
        )
    authenticated = [route for route in closed_routes if _authenticates(route)]
    for routes, dependencies in (
        (open_routes + authenticated, []),
        ([r for r in closed_routes if r not in authenticated], [Depends(current_user)]),
    ):
        first = [r for r in routes if is_matched_first(getattr(r, "endpoint", None))]
        for part_routes, front in ((first, True), ([r for r in routes if r not in first], False)):
            if part_routes:
                _include(app, part_routes, dependencies, front)


def _include(app: FastAPI, routes: list[BaseRoute], dependencies: list[Any], front: bool) -> None:
    if front:
        for route in routes:
            path = getattr(route, "path", "{")
            if "{" in path:
                raise ConfigError(f"{path}: only a path with no parameters may be matched first")
    part = APIRouter()
    part.routes.extend(routes)
    app.include_router(part, prefix=API_PREFIX, dependencies=dependencies)
    if front:  # `matched_first`: ahead of every route, those mounted later included
        app.router.routes.insert(0, app.router.routes.pop())


def _authenticates(route: BaseRoute) -> bool:
    """True when the route already depends on `CurrentUser` or `OwnedDB` (at any depth)."""
    pending = [route.dependant] if isinstance(route, APIRoute) else []
    while pending:
        dependant = pending.pop()
        if dependant.call in AUTHENTICATING:
            return True
        pending.extend(dependant.dependencies)
    return False
