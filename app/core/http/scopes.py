"""Task: T-400, T-404
Spec: specs/features/authentication.md §Scopes

The scopes of an app: every scope one of its routes needs, as its marks and plugins say.
"""

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from app.core.http.marks import required_scope


def known_scopes(app: FastAPI) -> list[str]:
    """Every scope a route of `app` needs, sorted: what a personal token may be given (but the
    authentication plugin's own), and what the OpenAPI security scheme lists."""
    return sorted(
        {
            scope
            for context in iter_route_contexts(app.routes)
            if isinstance(route := context.original_route, APIRoute)
            for method in context.methods or ()
            if (scope := required_scope(route.endpoint, method)) is not None
        }
    )
