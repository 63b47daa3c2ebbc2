"""Task: T-153
Spec: specs/api/rest-endpoints.md §HTTP

What answers a request no route takes (404, 405 with `Allow`, `OPTIONS`): a route mounted last.
"""

from collections.abc import Iterable

from fastapi import FastAPI, HTTPException, Response
from fastapi.routing import iter_route_contexts
from starlette.routing import Route, compile_path
from starlette.types import Receive, Scope, Send


def allowed_methods(methods: Iterable[str]) -> str:
    found = set(methods)
    if "GET" in found:
        found.add("HEAD")
    return ", ".join(sorted(found))


class NoRoute:
    """An ASGI app rather than a function endpoint, which Starlette would give only GET."""

    def __init__(self, app: FastAPI) -> None:
        self.paths = [
            (compile_path(context.path)[0], frozenset(context.methods))
            for context in iter_route_contexts(app.routes)
            if context.path and context.methods
        ]

    def _methods(self, path: str) -> list[str]:
        # Every route's methods: Starlette's own 405 named only the first route's.
        return [method for regex, found in self.paths if regex.match(path) for method in found]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        methods = self._methods(scope["path"])
        if not methods:
            raise HTTPException(404)
        allow = {"Allow": allowed_methods(methods)}
        if scope["method"] != "OPTIONS":
            raise HTTPException(405, headers=allow)
        await Response(status_code=204, headers=allow)(scope, receive, send)


def install(app: FastAPI, prefix: str) -> None:
    # A Route around an ASGI app (not a function) takes every method.
    route = Route(f"{prefix}/{{path:path}}", NoRoute(app), include_in_schema=False)
    app.router.routes.append(route)
