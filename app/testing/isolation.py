"""Task: T-113, T-360, T-361, T-405, T-444
Spec: specs/features/plugins.md §Isolation, §Testing; specs/features/sharing.md §Testing;
specs/features/authentication.md §Testing with scopes

`assert_isolated`: a plugin's isolation suite as one call, generated from the app's route table,
so a route added later is checked without editing a test.

- Every route of the plugin with a path parameter, called by another user with the owner's
  values (every method, each set of extra headers, a body valid for it), answers 404, and no
  `Owned` table of the app changes (each is digested before and after every call).
- Every list route (a GET answering a JSON array of objects with an `id`), called by each user
  with their own path values, shows only rows that user created, and none with another
  `user_id`.
- Given `share` and `unshare`, the role check (sharing.md §Testing): the other user, made a
  `viewer` of the owner's rows, reads what they can and gets 403 on every write to it (404 on
  what stays personal), changing nothing; made an `editor`, gets 403 from every route marked
  `requires_role("owner")`, changing nothing; removed, is back to 404 on every route.

`assert_scoped`: the scope check, route by route on the same probe: a read-only personal token
(every `:read` scope of the app) reads, and gets a 403 naming the scope on every other route,
changing nothing.
"""

import re
import uuid
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import TextClause, bindparam, text

from app.core import OWNER_ROLE
from app.core.app import API_PREFIX
from app.core.db.ownership import Owned
from app.core.db.pool import Database
from app.core.http.marks import is_public, is_well_known, required_role, required_scope
from app.core.http.scopes import known_scopes
from app.core.plugins.context import Context
from app.core.plugins.loading import per_plugin
from app.testing.users import ApiUser

# Starlette path parameters: `{name}` or `{name:converter}`.
PARAMETER = re.compile(r"{(\w+)(?::\w+)?}")
WRITES = {"POST", "PUT", "PATCH"}
# The roles the role check shares with, least first: a viewer reads, an editor writes.
VIEWER, EDITOR = "viewer", "editor"

Create = Callable[[ApiUser], Awaitable[Mapping[str, str]]]
# `share(owner, member, role)` makes `member` a member of the containers of `owner`'s rows at
# `role` (or changes their role); `unshare(owner, member)` removes them.
Share = Callable[[ApiUser, ApiUser, str], Awaitable[None]]
Unshare = Callable[[ApiUser, ApiUser], Awaitable[None]]


@dataclass
class Isolation:
    """What `assert_isolated` checked: the routes another user got 404 from, the list routes
    that showed the caller's rows, and the ids each user's `create` calls returned; with the
    role check, what a member got from each route at each role and once removed."""

    unreachable: list[tuple[str, str]] = field(default_factory=list)
    lists: list[str] = field(default_factory=list)
    created: dict[str, set[str]] = field(default_factory=dict)
    readable: list[tuple[str, str]] = field(default_factory=list)  # a viewer's GET: 200
    forbidden: list[tuple[str, str]] = field(default_factory=list)  # a viewer's write: 403
    personal: list[tuple[str, str]] = field(default_factory=list)  # a viewer's call: 404
    left: list[tuple[str, str]] = field(default_factory=list)  # a member left by it
    own: list[tuple[str, str]] = field(default_factory=list)  # a viewer wrote their own rows
    owner_only: list[tuple[str, str]] = field(default_factory=list)  # an editor's call: 403
    revoked: list[tuple[str, str]] = field(default_factory=list)  # removed: 404 again


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # as served, `/api/v1/...`
    role: str | None  # its `requires_role` mark
    scope: str | None  # what a token needs to call it


@dataclass
class _Check:
    """One `assert_isolated` call's fixed parts: what each probe needs."""

    database: Database
    tables: list[str]
    body: Mapping[str, Any] | None
    bodies: Mapping[str, Mapping[str, Any]]
    headers: Sequence[Mapping[str, str]]

    async def probe(
        self,
        user: ApiUser,
        route: Route,
        url: str,
        expected: Collection[int],
        who: str,
        extra: Mapping[str, str] = {},
        spare: str | None = None,
    ) -> httpx.Response:
        """Call `route` as `user`: it must answer one of `expected` and change no row of any
        `Owned` table (but `spare`'s own)."""
        method, path = route.method, route.path
        before = await _digests(self.database, self.tables, spare)
        sent = self.bodies.get(path, self.body)
        response = await user.request(method, url, json=sent, headers=dict(extra))
        assert response.status_code in expected, (
            f"{method} {path} by {who} answered {response.status_code}, expected "
            f"{' or '.join(map(str, sorted(expected)))}: {response.text}"
        )
        after = await _digests(self.database, self.tables, spare)
        changed = sorted(table for table in self.tables if before[table] != after[table])
        assert not changed, f"{method} {path} by {who} changed {', '.join(changed)}"
        return response


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
    share: Share | None = None,
    unshare: Unshare | None = None,
    personal: Collection[str] = (),
    leaves: Collection[str] = (),
) -> Isolation:
    """Check that `intruder` can neither reach nor change `owner`'s rows through any route of
    `plugin`, and that list routes show each user only their own rows.

    `create(user)` makes one row as `user` through the API and returns the path parameters that
    locate it (`{"task_id": ...}`); it is called `rows` times per user. `body` is sent to every
    route with a parameter: make it valid for each of them, so validation cannot answer before
    ownership does; `bodies` replaces it for the routes whose path (as served) it names.
    `headers` are tried in turn (`{"If-Match": "*"}`), `list_params` are the query strings each
    list route is read with, and `detail` is the 404's expected detail (or gives it for a
    route's path).

    With `share` and `unshare`, the role check follows, with `intruder` as the member (sharing.md
    §Testing). `personal` names the routes (paths as served) where a member who can read the
    resource writes rows of their own (a reminder on a shared task): their write may succeed,
    changing no one's rows but theirs. `leaves` names the routes by which a member ends their
    own membership: skipped by the viewer's round, each must then succeed for the member.
    """
    context: Context = app.state.context
    routes = _routes(context, plugin)
    assert routes, f"plugin {plugin!r} has no routes in this app (is it enabled?)"
    check = _Check(app.state.database, owned_tables(context), body, bodies or {}, headers)
    made = {user.id: [await create(user) for _ in range(rows)] for user in (owner, intruder)}
    ids = {user: {value for row in found for value in row.values()} for user, found in made.items()}
    report = Isolation(created=ids)

    report.unreachable = await _unreachable(check, routes, intruder, made[owner.id][0], detail)
    owner_lists = await _lists(routes, owner, made[owner.id][0], list_params, ids[owner.id])
    await _lists(routes, intruder, made[intruder.id][0], list_params[:1], ids[intruder.id])
    report.lists = owner_lists

    if share is not None or unshare is not None:
        assert share is not None and unshare is not None, "the role check needs share and unshare"
        values = made[owner.id][0]
        await share(owner, intruder, VIEWER)
        viewed = [route for route in routes if route.path not in leaves]
        await _as_viewer(check, app, viewed, intruder, values, set(personal), report)
        await share(owner, intruder, EDITOR)
        await _as_editor(check, routes, intruder, values, report)
        for route in routes:
            if route.path in leaves:
                left = await intruder.request(route.method, _fill(route, values))
                assert left.is_success, f"{route.method} {route.path} by a member: {left.text}"
                report.left.append((route.method, route.path))
                await share(owner, intruder, EDITOR)  # back, to be removed
        await unshare(owner, intruder)
        report.revoked = await _unreachable(check, routes, intruder, values, None, "removed")
        await _lists(routes, intruder, made[intruder.id][0], list_params[:1], ids[intruder.id])
    return report


async def _unreachable(
    check: _Check,
    routes: list[Route],
    user: ApiUser,
    values: Mapping[str, str],
    detail: str | Callable[[str], str] | None,
    who: str = "another user",
) -> list[tuple[str, str]]:
    """Every route with a parameter, called by `user` with another's `values`: 404, no change."""
    found = []
    for route in routes:
        if not PARAMETER.search(route.path):
            continue
        url = _fill(route, values)
        for extra in check.headers:
            response = await check.probe(user, route, url, {404}, who, extra)
            if detail is not None:
                expected = detail if isinstance(detail, str) else detail(route.path)
                assert response.json()["detail"] == expected, (route.path, response.text)
        found.append((route.method, route.path))
    return found


async def _lists(
    routes: list[Route],
    user: ApiUser,
    values: Mapping[str, str],
    variants: Sequence[Mapping[str, Any]],
    ids: set[str],
) -> list[str]:
    """Every list route, read by `user` with their own `values`: only rows among `ids`."""
    shown_rows = []
    for route in routes:
        if route.method != "GET":
            continue
        url = _fill(route, values)
        for query in variants:
            response = await user.get(url, params=dict(query))
            shown = _rows(response.json()) if response.status_code == 200 else None
            if shown is None:
                break  # not a list route
            seen = {row["id"] for row in shown}
            assert seen <= ids, (route.path, dict(query), seen - ids)
            assert all(row.get("user_id", user.id) == user.id for row in shown), (route.path, shown)
            if seen and route.path not in shown_rows:
                shown_rows.append(route.path)
    return shown_rows


async def _as_viewer(
    check: _Check,
    app: FastAPI,
    routes: list[Route],
    viewer: ApiUser,
    values: Mapping[str, str],
    personal: set[str],
    report: Isolation,
) -> None:
    """A viewer reads what they can (200) and nothing of what stays personal (404); their write
    to what they read is a 403, to the rest a 404; a route marked with a role is a 403."""
    who = "a viewer"
    gets = _readers(app.state.context)
    for route in routes:
        if not PARAMETER.search(route.path):
            continue
        url, name = _fill(route, values), (route.method, route.path)
        if route.role is not None:
            for extra in check.headers:
                await check.probe(viewer, route, url, {403}, f"{who} (marked {route.role})", extra)
            report.forbidden.append(name)
            continue
        if route.method == "GET":
            answer = await check.probe(viewer, route, url, {200, 404}, who)
            (report.readable if answer.status_code == 200 else report.personal).append(name)
            continue
        reader = _reader(gets, route.path)
        readable = (
            reader is not None and (await viewer.get(_fill(reader, values))).status_code == 200
        )
        if readable and route.path in personal:
            for extra in check.headers:
                answer = await check.probe(
                    viewer, route, url, range(200, 500), who, extra, spare=viewer.id
                )
            report.own.append(name)
        elif readable:
            for extra in check.headers:
                await check.probe(viewer, route, url, {403}, f"{who} (who reads {reader})", extra)
            report.forbidden.append(name)
        else:
            for extra in check.headers:
                await check.probe(viewer, route, url, {404}, f"{who} (who cannot read it)", extra)
            report.personal.append(name)


async def _as_editor(
    check: _Check,
    routes: list[Route],
    editor: ApiUser,
    values: Mapping[str, str],
    report: Isolation,
) -> None:
    """An editor cannot manage members: every route marked `requires_role("owner")` is a 403."""
    for route in routes:
        if route.role != OWNER_ROLE or not PARAMETER.search(route.path):
            continue
        url = _fill(route, values)
        for extra in check.headers:
            await check.probe(editor, route, url, {403}, "an editor (marked owner)", extra)
        report.owner_only.append((route.method, route.path))


@dataclass
class Scoped:
    """What `assert_scoped` checked: the routes a read-only token read (200) or reached (another
    answer than 403, such as a 404 for a made-up id), and those it was refused (403)."""

    read: list[tuple[str, str]] = field(default_factory=list)
    reached: list[tuple[str, str]] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)


async def assert_scoped(
    app: FastAPI,
    user: ApiUser,
    *,
    plugin: str,
    create: Create | None = None,
    body: Mapping[str, Any] | None = None,
    bodies: Mapping[str, Mapping[str, Any]] | None = None,
    streams: Collection[str] = (),
) -> Scoped:
    """Check the scopes of every route of `plugin` with a read-only personal token of `user`:
    one with every `<plugin>:read` scope of the app. A route whose scope it has answers anything
    but 401, 403 or a 5xx (a 200 with `create`'s row; without `create`, path values are made up
    and a 404 is fine); every other route answers 403 naming its scope and changes no row of any
    `Owned` table. `body`/`bodies` as for `assert_isolated`: the scope is checked before the
    body, so none is needed. `streams` names the routes (paths as served) that answer a stream
    which never ends: they are called only by a token lacking their scope, which gets a 403."""
    context: Context = app.state.context
    routes = [route for route in _routes(context, plugin) if route.scope is not None]
    assert routes, f"plugin {plugin!r} has no authenticated routes in this app"
    reading = [scope for scope in known_scopes(app) if scope.endswith(":read")]
    reader = await user.scoped(*reading)
    values = await create(user) if create is not None else _made_up(routes)
    check = _Check(app.state.database, owned_tables(context), body, bodies or {}, ({},))
    report = Scoped()
    for route in routes:
        url, name = _fill(route, values), (route.method, route.path)
        if route.path in streams:
            others = [scope for scope in reading if scope != route.scope]
            lacking = await user.scoped(*others)
            await check.probe(lacking, route, url, {403}, f"a token without {route.scope!r}")
            report.refused.append(name)
            continue
        if route.scope in reading:
            answer = await reader.request(
                route.method, url, json=check.bodies.get(route.path, body)
            )
            assert answer.status_code not in (401, 403) and answer.status_code < 500, (
                f"{route.method} {route.path} with {route.scope!r} answered "
                f"{answer.status_code}: {answer.text}"
            )
            (report.read if answer.status_code == 200 else report.reached).append(name)
            continue
        who = f"a token without {route.scope!r}"
        refused = await check.probe(reader, route, url, {403}, who)
        assert repr(route.scope) in refused.json()["detail"], (route.path, refused.text)
        report.refused.append(name)
    return report


async def owned_digests(app: FastAPI) -> dict[str, str]:
    """A digest of each `Owned` table of `app`: the same before and after a call means the
    call changed no row (for checks of a surface the route walk does not see, such as MCP)."""
    context: Context = app.state.context
    return await _digests(app.state.database, owned_tables(context), None)


def _made_up(routes: list[Route]) -> dict[str, str]:
    """A value for every path parameter: ids no row has."""
    return {name: str(uuid.uuid4()) for route in routes for name in PARAMETER.findall(route.path)}


def plugin_routes(context: Context, plugin: str) -> list[tuple[str, str]]:
    """(method, path) of every route `plugin` mounts, as the app serves them."""
    return [(route.method, route.path) for route in _routes(context, plugin)]


def _routes(context: Context, plugin: str | None = None) -> list[Route]:
    """The routes `plugin` mounts (every plugin's without it)."""
    return sorted(
        (
            Route(
                method,
                f"{'' if is_well_known(endpoint) else API_PREFIX}{route.path}",
                required_role(endpoint),
                None if is_public(endpoint) else required_scope(endpoint, method, name),
            )
            for name, routers in per_plugin(context.hook.routers, context=context)
            if plugin is None or name == plugin
            for router in routers
            for route in router.routes
            for method in getattr(route, "methods", None) or ()
            if method != "HEAD"
            for endpoint in [getattr(route, "endpoint", None)]
        ),
        key=lambda route: (route.method, route.path),
    )


def _readers(context: Context) -> set[str]:
    """The paths every plugin of the app answers GET on."""
    return {route.path for route in _routes(context) if route.method == "GET"}


def _reader(gets: set[str], path: str) -> str | None:
    """The GET that reads the resource `path` writes: its own, or its nearest parent's (`POST
    /tasks/{task_id}/complete` → `GET /tasks/{task_id}`), while it still names one."""
    while PARAMETER.search(path):
        if path in gets:
            return path
        path = path.rsplit("/", 1)[0]
    return None


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
    # Plain SQL through the unscoped database: every user's rows, which is the point (but those
    # of `spare`, when a check lets one user change their own).
    rows = "coalesce(string_agg(t::text, ',' ORDER BY t::text), '')"
    where = "t.user_id IS DISTINCT FROM :spare"
    return text(f'SELECT md5({rows}) FROM "{table}" AS t WHERE {where}').bindparams(
        bindparam("spare", type_=None)
    )


async def _digests(database: Database, tables: list[str], spare: str | None) -> dict[str, str]:
    return {table: await database.fetchval(_digest(table), spare=spare) for table in tables}


def _fill(route: Route | str, values: Mapping[str, str]) -> str:
    path = route if isinstance(route, str) else route.path
    missing = [name for name in PARAMETER.findall(path) if name not in values]
    assert not missing, f"{path}: `create` returned no {', '.join(missing)}"
    return PARAMETER.sub(lambda match: values[match.group(1)], path)


def _rows(payload: Any) -> list[dict[str, Any]] | None:
    """The rows of a list route's answer (a JSON array of objects with an `id`), else None."""
    if isinstance(payload, list) and all(isinstance(row, dict) and "id" in row for row in payload):
        return payload
    return None
