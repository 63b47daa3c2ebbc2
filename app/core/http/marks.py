"""Task: T-071, T-006, T-247, T-321, T-400, T-441, T-449
Spec: specs/features/plugins.md §Plugin author API; specs/api/rest-endpoints.md §Headers, §Limits;
specs/features/sharing.md §Roles; specs/features/authentication.md §Scopes

Marks a route's endpoint carries for the kernel: attributes on the function.
"""

from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable[..., object])


def public(endpoint: F) -> F:
    """Mark a route's endpoint as open to anonymous callers (put it under `@router.get(...)`)."""
    endpoint.__todo_api_public__ = True  # type: ignore[attr-defined]
    return endpoint


def is_public(endpoint: object) -> bool:
    return getattr(endpoint, "__todo_api_public__", False) is True


def token_endpoint(endpoint: F) -> F:
    """The route that issues bearer tokens (OAuth2 password flow): the docs page's Authorize
    button posts to it. The kernel names no plugin's paths, so the authentication plugin says."""
    endpoint.__todo_api_token_endpoint__ = True  # type: ignore[attr-defined]
    return endpoint


def is_token_endpoint(endpoint: object) -> bool:
    return getattr(endpoint, "__todo_api_token_endpoint__", False) is True


def no_store(endpoint: F) -> F:
    """Answers of this route, errors included, carry `Cache-Control: no-store` (tokens, secrets)."""
    endpoint.__todo_api_no_store__ = True  # type: ignore[attr-defined]
    return endpoint


def is_no_store(endpoint: object) -> bool:
    return getattr(endpoint, "__todo_api_no_store__", False)


def body_limit(max_bytes: int) -> Callable[[F], F]:
    """This route takes request bodies up to `max_bytes`, instead of `MAX_BODY_BYTES`."""
    if max_bytes < 0:
        raise ValueError(f"a body limit is a number of bytes, not {max_bytes}")

    def mark(endpoint: F) -> F:
        endpoint.__todo_api_body_limit__ = max_bytes  # type: ignore[attr-defined]
        return endpoint

    return mark


def body_limit_of(endpoint: object, default: int) -> int:
    return getattr(endpoint, "__todo_api_body_limit__", default)


def requires_role(role: str) -> Callable[[F], F]:
    """This route's statements need the caller to be `role` or above on the shared rows they
    touch (`owner`, or a membership's role), reading as well as writing: a member below it gets
    a 403, a stranger a 404. Without it, each table's declared `read` and `write` roles apply."""

    def mark(endpoint: F) -> F:
        endpoint.__todo_api_role__ = role  # type: ignore[attr-defined]
        return endpoint

    return mark


def required_role(endpoint: object) -> str | None:
    return getattr(endpoint, "__todo_api_role__", None)


# Methods that only read: a plugin's routes answering them need `<plugin>:read` by default.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def requires_scope(scope: str) -> Callable[[F], F]:
    """A token must carry `scope` to call this route, instead of the default `<plugin>:read`
    (safe methods) or `<plugin>:write` (the rest): a plugin's finer scope (`webhooks:secrets`)."""

    def mark(endpoint: F) -> F:
        endpoint.__todo_api_scope__ = scope  # type: ignore[attr-defined]
        return endpoint

    return mark


def protected_resource(metadata_path: str) -> Callable[[F], F]:
    """This route's 401 names where its OAuth protected-resource metadata is (RFC 9728 §5.1):
    `WWW-Authenticate: Bearer resource_metadata="<origin><metadata_path>"`, as MCP clients
    need to find the authorization server."""

    def mark(endpoint: F) -> F:
        endpoint.__todo_api_resource_metadata__ = metadata_path  # type: ignore[attr-defined]
        return endpoint

    return mark


def resource_metadata_of(endpoint: object) -> str | None:
    return getattr(endpoint, "__todo_api_resource_metadata__", None)


WELL_KNOWN = "/.well-known/"


def well_known(endpoint: F) -> F:
    """Mount this public route at the root, not under `/api/v1`: the one exception, for the
    `/.well-known/` documents (RFC 8615) clients look up by a fixed path."""
    endpoint.__todo_api_well_known__ = True  # type: ignore[attr-defined]
    return endpoint


def is_well_known(endpoint: object) -> bool:
    return getattr(endpoint, "__todo_api_well_known__", False) is True


def matched_first(endpoint: F) -> F:
    """The app looks for this route before all the others: for an endpoint every call of a
    protocol crosses (the MCP endpoint). FastAPI tries the routes in order, about 1.5 µs each,
    so the last plugin's route waited 75 of them. Only for a path with no parameters, which
    then can take no other route's requests."""
    endpoint.__todo_api_matched_first__ = True  # type: ignore[attr-defined]
    return endpoint


def is_matched_first(endpoint: object) -> bool:
    return getattr(endpoint, "__todo_api_matched_first__", False) is True


def owned_by(plugin: str, endpoint: object) -> None:
    """Record which plugin mounts the route (the kernel does, when it mounts it): its default
    scopes are named after the plugin."""
    endpoint.__todo_api_plugin__ = plugin  # type: ignore[attr-defined]


def scoped_per_call(endpoint: F) -> F:
    """Any valid token may call this route: it is a gateway that checks the scope of each
    operation it carries itself (the MCP endpoint, whose tools each need their own scope)."""
    endpoint.__todo_api_scope__ = ""  # type: ignore[attr-defined]
    return endpoint


def required_scope(endpoint: object, method: str, plugin: str | None = None) -> str | None:
    """The scope a token needs to call `endpoint` with `method`, if `plugin` (by default, the
    one recorded by `owned_by`) mounts it; None for a route no plugin mounted or one marked
    `scoped_per_call`."""
    declared: str | None = getattr(endpoint, "__todo_api_scope__", None)
    if declared is not None:
        return declared or None
    plugin = plugin or getattr(endpoint, "__todo_api_plugin__", None)
    if plugin is None:
        return None
    return f"{plugin}:{'read' if method in SAFE_METHODS else 'write'}"
