"""Task: T-153
Spec: specs/api/rest-endpoints.md §HTTP

What answers a request no route takes: one route, mounted last, that matches every path under
the prefix and every method, so the router reaches it only when no route took the request.
(Outside the prefix there are no routes, and the router's own 404 answers.)

- No route has the path: `404`. A trailing slash is no route of its own (and no redirect).
- Routes have the path but not the method: `405` with `Allow` naming every method of every
  route of that path (Starlette's own 405 names only the first route's, so `DELETE /tasks`
  said `Allow: GET`); `HEAD` wherever `GET` is (the edge answers it).
- `OPTIONS` that is not a CORS preflight (those are CORS's): `204` with the same `Allow`.

The paths and their methods are gathered once, when the app is assembled; the work here is done
only on those rare requests, never on the way of one a route takes.
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
