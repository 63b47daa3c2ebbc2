"""Task: T-113
Spec: specs/features/plugins.md §Isolation, §Testing

`assert_isolated`: a plugin's isolation suite as one call, generated from the app's route table,
so a route added later is checked without editing a test.

- Every route of the plugin with a path parameter, called by another user with the owner's
  values (every method, each set of extra headers, a body valid for it), answers 404, and no
  `Owned` table of the app changes (each is digested before and after every call).
- Every list route (a GET answering a JSON array of objects with an `id`), called by each user
  with their own path values, shows only rows that user created, and none with another
  `user_id`.
"""

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from fastapi import FastAPI
from sqlalchemy import TextClause, text

from app.core.app import API_PREFIX
from app.core.db.ownership import Owned
from app.core.db.pool import Database
from app.core.plugins.context import Context
from app.core.plugins.loading import per_plugin
from app.testing.users import ApiUser

# Starlette path parameters: `{name}` or `{name:converter}`.
PARAMETER = re.compile(r"{(\w+)(?::\w+)?}")
WRITES = {"POST", "PUT", "PATCH"}

Create = Callable[[ApiUser], Awaitable[Mapping[str, str]]]


@dataclass
class Isolation:
    """What `assert_isolated` checked: the routes another user got 404 from, the list routes
    that showed the caller's rows, and the ids each user's `create` calls returned."""

    unreachable: list[tuple[str, str]] = field(default_factory=list)
    lists: list[str] = field(default_factory=list)
    created: dict[str, set[str]] = field(default_factory=dict)


async def assert_isolated(
    app: FastAPI,
    owner: ApiUser,
    intruder: ApiUser,
    *,
    plugin: str,
    create: Create,
    body: Mapping[str, Any] | None = None,
    bodies: Mapping[str, Mapping[str, Any]] | None = None,
    headers: Sequence[Mapping[str, str]] = ({},),
    list_params: Sequence[Mapping[str, Any]] = ({},),
    detail: str | Callable[[str], str] | None = None,
    rows: int = 2,
) -> Isolation:
    """Check that `intruder` can neither reach nor change `owner`'s rows through any route of
    `plugin`, and that list routes show each user only their own rows.

    `create(user)` makes one row as `user` through the API and returns the path parameters that
    locate it (`{"task_id": ...}`); it is called `rows` times per user. `body` is sent to every
    route with a parameter: make it valid for each of them, so validation cannot answer before
    ownership does; `bodies` replaces it for the routes whose path (as served) it names. `headers` are tried in turn (`{"If-Match": "*"}`), `list_params` are the
    query strings each list route is read with, and `detail` is the 404's expected detail (or
    gives it for a route's path).
    """
    context: Context = app.state.context
    database: Database = app.state.database
    routes = plugin_routes(context, plugin)
    assert routes, f"plugin {plugin!r} has no routes in this app (is it enabled?)"
    tables = owned_tables(context)
    made = {user.id: [await create(user) for _ in range(rows)] for user in (owner, intruder)}
    ids = {user: {value for row in found for value in row.values()} for user, found in made.items()}
    report = Isolation(created=ids)

    for method, path in routes:
        if not PARAMETER.search(path):
            continue
        url = _fill(method, path, made[owner.id][0])
        for extra in headers:
            before = await _digests(database, tables)
            sent = (bodies or {}).get(path, body)
            response = await intruder.request(method, url, json=sent, headers=dict(extra))
            assert response.status_code == 404, (method, path, dict(extra), response.text)
            if detail is not None:
                expected = detail if isinstance(detail, str) else detail(path)
                assert response.json()["detail"] == expected, (method, path, response.text)
            after = await _digests(database, tables)
            changed = sorted(table for table in tables if before[table] != after[table])
            assert not changed, f"{method} {path} by another user changed {', '.join(changed)}"
        report.unreachable.append((method, path))

    for method, path in routes:
        if method != "GET":
            continue
        # The owner with every query string, the other user with the first.
        for user, variants in ((owner, list_params), (intruder, list_params[:1])):
            url = _fill(method, path, made[user.id][0])
            for query in variants:
                response = await user.get(url, params=dict(query))
                shown = _rows(response.json()) if response.status_code == 200 else None
                if shown is None:
                    break  # not a list route
                seen = {row["id"] for row in shown}
                assert seen <= ids[user.id], (path, dict(query), seen - ids[user.id])
                assert all(row.get("user_id", user.id) == user.id for row in shown), (path, shown)
                if seen and path not in report.lists:
                    report.lists.append(path)
    return report


def plugin_routes(context: Context, plugin: str) -> list[tuple[str, str]]:
    """(method, path) of every route `plugin` mounts, as the app serves them."""
    return sorted(
        (method, f"{API_PREFIX}{route.path}")
        for name, routers in per_plugin(context.hook.routers, context=context)
        if name == plugin
        for router in routers
        for route in router.routes
        for method in getattr(route, "methods", None) or ()
        if method != "HEAD"
    )


def owned_tables(context: Context) -> list[str]:
    """The tables of the enabled plugins' `Owned` models."""
    return sorted(
        model.__table__.name
        for _, models in per_plugin(context.hook.models)
        for model in models
        if issubclass(model, Owned) and "__table__" in vars(model)
    )


@lru_cache(maxsize=256)
def _digest(table: str) -> TextClause:
    # Plain SQL through the unscoped database: every user's rows, which is the point.
    rows = "coalesce(string_agg(t::text, ',' ORDER BY t::text), '')"
    return text(f'SELECT md5({rows}) FROM "{table}" AS t')


async def _digests(database: Database, tables: list[str]) -> dict[str, str]:
    return {table: await database.fetchval(_digest(table)) for table in tables}


def _fill(method: str, path: str, values: Mapping[str, str]) -> str:
    missing = [name for name in PARAMETER.findall(path) if name not in values]
    assert not missing, f"{method} {path}: `create` returned no {', '.join(missing)}"
    return PARAMETER.sub(lambda match: values[match.group(1)], path)


def _rows(payload: Any) -> list[dict[str, Any]] | None:
    """The rows of a list route's answer (a JSON array of objects with an `id`), else None."""
    if isinstance(payload, list) and all(isinstance(row, dict) and "id" in row for row in payload):
        return payload
    return None
