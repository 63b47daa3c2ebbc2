"""Task: T-004
Spec: specs/features/plugins.md §Hooks

The hooks a plugin implements. Every hook is a plain synchronous call made once, while the app
is assembled (Litestar's `on_app_init` style: a plugin adds to the app's configuration).
Anything that does I/O is *returned* as an async artefact — a lifespan context manager, an
authenticator, a readiness check, a job handler — and awaited by the kernel only inside FastAPI's lifespan or a
request. No hook is `firstresult` and none is a wrapper, so every implementation is called and
its result kept.

`specs/features/plugins.md` documents each hook; `tests/core/test_hookspecs.py` fails when one
is missing there.
"""

# Hookspecs are signatures with a docstring for a body, which pluggy never calls.
# mypy: disable-error-code="empty-body"

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

import click
import pluggy
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

from app.core.principal import Authenticator

if TYPE_CHECKING:
    from app.core.context import Context
    from app.core.events import AfterCommit, ChangeSerializer, InTransaction
    from app.core.jobs import Periodic, Task
    from app.core.readiness import ReadinessCheck

PROJECT = "todo_api"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def settings_model() -> type[BaseModel]:
    """The pydantic model that validates this plugin's `[plugins.<name>]` table in plugins.toml.

    Called once per plugin, before any other hook; a validation error stops start-up with a
    message naming the setting. The validated instance is `context.settings_for("<name>")`.
    Give the model defaults for every field: an absent table means all defaults.
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
def jobs(context: "Context") -> Sequence["Task | Periodic"]:
    """The job kinds (`Task`) this plugin's code defers, and the `Periodic` schedules that defer
    them at cron times. The `jobs` plugin's worker runs them; a task must be listed here to run
    (a job nobody handles waits, and readiness reports it once it is overdue)."""


@hookspec
def cli_commands() -> Sequence[click.Command]:
    """Click commands added to the `todo-api` command line."""


@hookspec
def subscriptions(context: "Context") -> Sequence["InTransaction | AfterCommit"]:
    """What this plugin wants to hear of writes to tracked tables, its own or other plugins':
    `InTransaction(entity, handler)`, awaited inside the writing transaction (it may write too,
    and its exception rolls the write back), or `AfterCommit(name, entities, handler)`, fed from
    the change log after commit, at least once, from a cursor committed with its work."""


@hookspec
def change_serializers(context: "Context") -> Sequence["ChangeSerializer"]:
    """`ChangeSerializer(entity, serialize)`: how the change feed shows a row of this plugin's
    tracked table `entity`, as the plugin's own API shows it (without one, a change carries no
    row, only its type, id, operation and version)."""
