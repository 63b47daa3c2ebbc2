"""Task: T-004, T-272, T-276
Spec: specs/features/plugins.md §Hooks

The hooks a plugin implements: synchronous, called once while the app is assembled.
"""

# Hookspecs are signatures with a docstring for a body, which pluggy never calls.
# mypy: disable-error-code="empty-body"

from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import click
import pluggy
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

from app.core.http.principal import Authenticator

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from app.core.db.pool import Database
    from app.core.plugins.context import Context
    from app.core.plugins.readiness import ReadinessCheck

T = TypeVar("T")
PROJECT = "todo_api"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def settings_model() -> type[BaseModel]:
    """The pydantic model that validates this plugin's `[plugins.<name>]` table in plugins.toml.

    Called once per plugin, before any other hook; a validation error stops start-up with a
    message naming the setting. The validated instance is `context.settings_for("<name>")`.
    Give the model defaults for every field: an absent table means all defaults.

    A `app.core.PluginSettings` model (a pydantic-settings `BaseSettings`) is read from the
    environment and the kernel's `.env` file too, each field from its variable (`env_prefix` and
    name, or `validation_alias`); the table wins. A `SecretStr` field is refused in the table:
    it comes from the environment only.
    """


@hookspec
def requires() -> Sequence[str]:
    """Names of the plugins this plugin cannot work without (tasks → `["auth"]`).

    Start-up stops with a clear message when one of them is not enabled.
    """


@hookspec
def routers(context: "Context") -> Sequence[APIRouter]:
    """FastAPI routers the kernel mounts under `/api/v1`.

    Every route gets the kernel's authentication dependency unless its endpoint is marked with
    `app.core.public`; so a plugin cannot forget to protect a route.
    """


RowSerializer = Callable[[Mapping[str, Any]], Mapping[str, Any]]


@hookspec
def row_serializers(context: "Context") -> Mapping[str, RowSerializer]:
    """How this plugin's API shows a row of each of its tables, by table name: `serialize(row)`
    gets the row as JSON values and returns the API's body; whatever shows rows elsewhere (the
    change feed, webhooks) asks this hook, so the table's plugin need not know it."""


@hookspec
def models() -> Sequence[type[Any]]:
    """The SQLModel table classes this plugin owns (for Alembic autogenerate and the schema
    documentation). Their tables are created only by the plugin's migrations."""


@hookspec
def lifespan(context: "Context") -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """An async context manager factory entered when the app starts and exited when it stops
    (open a client, start a background task). Entered in plugin order, exited in reverse,
    after the kernel's database lifespan has started."""


@hookspec
def authenticator(context: "Context") -> Authenticator:
    """An async callable `(token, db) -> Principal | None` that vouches for a bearer
    token. The only way any plugin learns who the user is: the kernel's `CurrentUser`
    dependency awaits the authenticators in plugin order; the first `Principal` wins,
    `AuthenticationError` refuses the token (401), `None` lets the next one try."""


@hookspec
def readiness_checks(context: "Context") -> Sequence["ReadinessCheck"]:
    """Async checks `(db) -> str | None` run by `GET /api/v1/health/ready`; a returned
    string says what is wrong and makes the answer 503."""


@hookspec
def cli_commands() -> Sequence[click.Command]:
    """Click commands added to the `todo-api` command line; a command taking `@click.pass_obj`
    is given the `CommandLine`."""


class CommandLine(Protocol):
    """What the `todo-api` command line gives a plugin's command (`@click.pass_obj`)."""

    def start(self, migrate: bool = True) -> FastAPI:
        """The app as `serve` starts it, not yet running: the configuration checked, the
        database reached and (unless `migrate` is false) migrated, the steps logged."""
        ...

    def on_database(self, work: "Callable[[Database], Awaitable[T]]") -> T:
        """Logging set up, the database reached, `work` run on the app's `Database` (a pool
        of one), closed after: for a command that reads or fixes rows."""
        ...


@hookspec
def after_upgrade(context: "Context") -> Callable[["Connection"], None]:
    """Work done in the migration's transaction, under its lock, once every enabled plugin's
    branch is upgraded (the `changes` plugin attaches its triggers to the tracked tables)."""
