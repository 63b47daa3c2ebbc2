"""Task: T-015, T-062, T-063, T-064, T-116, T-119, T-120, T-121, T-206, T-275, T-276, T-300
Spec: specs/features/plugins.md §Command line

The `todo-api` command: `serve`, `migrate`, `config`, `plugins`, `openapi`, `revision`,
`drop-orphan`, `new-plugin`, `--version`, plus plugins' commands.

Configuration problems (`ConfigError`) are printed as one line naming the fix, never as a
traceback, and exit with status 2.
"""

import asyncio
import json
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from functools import wraps
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

import click
import uvicorn
from fastapi import FastAPI
from pydantic import SecretStr
from pydantic_settings import BaseSettings
from sqlalchemy import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from app.cli import embedded
from app.cli.branches import Branches
from app.cli.checkouts import Checkout, checkout
from app.cli.connectivity import WAIT_SECONDS, check_database, create_engine
from app.cli.orphans import drop as drop_branch
from app.cli.orphans import orphan as find_orphan
from app.cli.revisions import new_revision
from app.cli.scaffold import new_plugin
from app.cli.server import uvicorn_options
from app.cli.upgrade import Step, inspect, upgrade
from app.core import redaction
from app.core.app import create_app
from app.core.db.pool import Database
from app.core.db.unmigrated import explain, unmigrated, unmigrated_tables
from app.core.db.urls import database_url, engine_options
from app.core.errors import ConfigError
from app.core.plugins.context import Context
from app.core.plugins.installed import Installed, installed_plugins
from app.core.plugins.loading import load, per_plugin
from app.core.settings import Settings, environment_name

logger = logging.getLogger("todo_api")
T = TypeVar("T")


def configure_logging(settings: Settings) -> None:
    """Logging as every command sets it up (plugins' commands included)."""
    redaction.install()
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")


def clear_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a command so a `ConfigError` is one `error:` line and status 2."""

    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ConfigError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)

    return run


def reach_database(settings: Settings, wait: float = WAIT_SECONDS) -> None:
    """Stop here, in one line, when the database cannot be reached or refuses us; without
    `DATABASE_URL`, start (or join) the embedded server first (§The embedded server)."""
    embedded.resolve(settings)
    asyncio.run(check_database(database_url(settings), settings.database_pool_mode, wait))


async def _on_database(context: Context, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    """`work` with a migrations engine (Alembic's, never the request path's), disposed after."""
    engine = create_engine(context.settings, database_url(context.settings))
    try:
        return await work(engine)
    finally:
        await engine.dispose()


async def migrate_database(context: Context) -> list[Step]:
    # Inside the migration's lock, after upgrading: the plugins' `after_upgrade` work (the
    # changes plugin's triggers on every tracked table).
    after = context.collect("after_upgrade")

    def then(connection: Connection) -> None:
        for work in after:
            work(connection)

    return await _on_database(context, lambda engine: upgrade(context.migrations, engine, then))


def read_branches(context: Context) -> Branches:
    """What the database holds of each branch, read without changing anything."""
    return asyncio.run(_on_database(context, lambda engine: inspect(context.migrations, engine)))


def on_database(work: Callable[[Database], Awaitable[T]]) -> T:
    """For a plugin's command: set up logging, reach the database, run `work` on the app's
    `Database` (a pool of one), close it."""
    settings = Settings()
    configure_logging(settings)
    reach_database(settings)

    async def run() -> T:
        options = engine_options(database_url(settings), settings.database_pool_mode)
        database = await Database.open(options, 1, settings.database_statement_cache)
        try:
            return await work(database)
        finally:
            await database.close()

    return asyncio.run(run())


def migrated(steps: list[Step]) -> list[str]:
    return [f"migrated {step}" for step in steps] or ["migrations: already at head"]


class Starter:
    """What a plugin's command is given (`@click.pass_obj`): `app.core.CommandLine`."""

    def start(self, migrate: bool = True) -> FastAPI:
        """The app as `serve` starts it, not yet running: the configuration checked, the
        database reached and (unless `migrate` is false) migrated, the steps logged."""
        settings = Settings()
        configure_logging(settings)
        context = load(settings)
        app = create_app(settings, context)  # any configuration error surfaces here, as one line
        reach_database(settings)
        if migrate:
            for line in migrated(asyncio.run(migrate_database(context))):
                logger.info(line)
        return app

    def on_database(self, work: Callable[[Database], Awaitable[T]]) -> T:
        """Logging set up, the database reached, `work` run on the app's `Database` (a pool
        of one), closed after."""
        return on_database(work)


class _WithPluginCommands(click.Group):
    """The built-in commands, then the enabled plugins' `cli_commands`, loaded only when a name
    is not a built-in (or for `--help`): `--version` and the built-ins load the plugins once.
    A `ConfigError` from any command, a plugin's too, is one `error:` line and status 2."""

    def invoke(self, ctx: click.Context) -> Any:
        return clear_errors(super().invoke)(ctx)

    def _plugin_commands(self) -> dict[str, click.Command]:
        try:
            context = load(Settings())
        except ConfigError:
            return {}  # the built-in commands report it properly
        found = (command for answer in context.hook.cli_commands() for command in answer)
        return {command.name or "": command for command in found}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._plugin_commands()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, cmd_name) or self._plugin_commands().get(cmd_name)


@click.group(cls=_WithPluginCommands)
@click.version_option(package_name="todo-api", prog_name="todo-api")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Todo API: a pluggable multi-user todo REST backend."""
    ctx.obj = Starter()


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1))
@click.option("--no-migrate", is_flag=True, help="Do not run migrations at start-up.")
@clear_errors
def serve(host: str, port: int, workers: int, no_migrate: bool) -> None:
    """Migrate (under an advisory lock, safe with several instances) and serve the API."""
    settings = Settings()
    configure_logging(settings)
    context = load(settings)
    create_app(settings, context)  # any configuration error surfaces here, as one line
    require_migrations(context)
    reach_database(settings)  # with --no-migrate too: a dead database is not "startup complete"
    if not no_migrate:
        for line in migrated(asyncio.run(migrate_database(context))):  # says orphans once
            logger.info(line)
    else:
        branches = read_branches(context)
        for orphan in branches.orphans:
            logger.warning("%s", orphan)
        behind = context.migrations.behind(branches.applied)
        if behind:
            logger.warning(
                "migrations not at head for: %s; run `todo-api migrate`", ", ".join(behind)
            )
    # uvicorn re-raises SIGTERM after its graceful shutdown, past the exit hooks: leave the
    # embedded PostgreSQL first, or it outlives us (docker stop, systemd).
    leave_on(signal.SIGTERM)
    uvicorn.run(
        "app.core.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        **uvicorn_options(settings),
    )


@cli.command()
@clear_errors
def migrate() -> None:
    """Upgrade every enabled plugin's migrations to head."""
    settings = Settings()
    configure_logging(settings)
    context = load(settings)
    require_migrations(context)
    reach_database(settings)
    for line in migrated(asyncio.run(migrate_database(context))):
        click.echo(line)


@cli.command()
@clear_errors
def config() -> None:
    """Print the effective configuration (secrets masked) and the enabled plugins."""
    settings = Settings()
    context = load(settings)
    _echo_settings(settings)
    for plugin, values in context.plugin_settings.items():
        if isinstance(values, BaseSettings):  # the plugins' settings read from the environment
            click.echo(f"# {plugin}")
            _echo_settings(values)
    path = settings.plugins_file.resolve()
    missing = "" if path.is_file() else " (not found: every built-in plugin enabled)"
    click.echo(f"plugins file: {path}{missing}")
    click.echo(f"enabled plugins: {', '.join(context.enabled)}")


def leave_on(signum: signal.Signals) -> None:
    """On `signum`, leave the embedded servers, then end of the signal as before (an exit
    status 143 would be a failure to systemd)."""

    def leave_then_die(received: int, frame: FrameType | None) -> None:
        embedded.leave()
        signal.signal(received, signal.SIG_DFL)
        signal.raise_signal(received)

    signal.signal(signum, leave_then_die)


def require_migrations(context: Context) -> None:
    """Stop, in one line, when an enabled plugin's tables have no migrations."""
    missing = unmigrated(context)
    if missing:
        raise ConfigError("; ".join(missing))


def _echo_settings(settings: BaseSettings) -> None:
    """`VARIABLE = value` for each field, `(default)` when nothing set it."""
    model = type(settings)
    for name in model.model_fields:
        default = name not in settings.model_fields_set and getattr(settings, name) is not None
        shown = f"{_shown(settings, name)}{'  (default)' if default else ''}"
        click.echo(f"{environment_name(model, name)} = {shown}")


def _shown(settings: BaseSettings, name: str) -> str:
    value = getattr(settings, name)
    if value is None:
        return "unset: embedded PostgreSQL" if name == "database_url" else "unset"
    if name in {"database_url", "database_direct_url"}:
        return _masked_url(value.get_secret_value())
    if isinstance(value, SecretStr):
        return "********"
    if isinstance(value, list):
        return (
            ",".join(map(str, value)) or "unset"
        )  # FORWARDED_ALLOW_IPS's default: no proxy trusted
    return str(value)


def _masked_url(raw_url: str) -> str:
    """The URL as the operator wrote it, with its password (in either place) hidden."""
    engine_options(raw_url)  # an unusable URL is its one-line error, not a half-printed URL
    url = make_url(raw_url.strip())
    secrets = {key: "hidden" for key in url.query if key in {"password", "sslpassword"}}
    return url.update_query_dict(secrets).render_as_string(hide_password=True)


@cli.command()
@click.argument("plugin")
@click.option("-m", "--message", required=True, help="What the revision does.")
@click.option(
    "--path",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The plugin's checkout (or package folder), when it is not installed.",
)
@clear_errors
def revision(plugin: str, message: str, path: Path | None) -> None:
    """Start a migration in PLUGIN's Alembic branch, to fill in by hand."""
    plugins: dict[str, Installed | Checkout] = {**installed_plugins()}
    if path is not None:
        plugins[plugin] = checkout(plugin, path)
    elif plugin not in plugins:
        raise ConfigError(
            f"unknown plugin {plugin!r}; installed: {', '.join(sorted(plugins))} "
            "(--path DIR for a checkout that is not installed)"
        )
    click.echo(f"created {new_revision(plugins, plugin, message)}")


@cli.command()
@click.option("--orphans", is_flag=True, help="List the database's orphaned branches instead.")
@clear_errors
def plugins(orphans: bool) -> None:
    """List installed plugins: source, version, enabled, routes, migration head, and where the
    database is; flag plugins whose tables have no migrations, and orphaned branches."""
    settings = Settings()
    context = load(settings)
    create_app(settings, context)  # the same checks as `serve`
    if orphans:
        reach_database(settings)
        found = read_branches(context).orphans
        _table(
            [("BRANCH", "REVISION", "TABLES")],
            [
                (o.branch, o.revision, "?" if o.tables is None else ",".join(o.tables) or "-")
                for o in found
            ],
        )
        if not found:
            click.echo("no orphaned branches")
        return
    branches = _branches_if_reachable(settings, context)
    missing = unmigrated_tables(context)
    routes = {
        name: sum(len(router.routes) for router in found)
        for name, found in per_plugin(context.hook.routers, context=context)
    }
    behind = context.migrations.behind(branches.applied) if branches else []
    rows = []
    for name, plugin in sorted(installed_plugins().items()):
        enabled = name in context.enabled
        head = "none" if name in missing else context.migrations.heads.get(name, "-")
        if not enabled:
            where, state = "-", "-"
        elif name in missing:
            where, state = "-", "missing-migrations"
        elif branches is None:
            where, state = "?", "?"
        else:
            where = (branches.position(name) or "base") if head != "-" else "-"
            state = "behind" if name in behind else "ok"
        rows.append(
            (
                name,
                plugin.version,
                plugin.source,
                "yes" if enabled else "no",
                str(routes.get(name, 0)) if enabled else "-",
                head if enabled else "-",
                where,
                state,
            )
        )
    header = (
        "NAME",
        "VERSION",
        "SOURCE",
        "ENABLED",
        "ROUTES",
        "MIGRATION HEAD",
        "DATABASE",
        "STATE",
    )
    _table([header], rows)
    for name, tables in missing.items():
        click.echo(f"warning: {explain(name, tables)}", err=True)
    for orphan in branches.orphans if branches else ():
        click.echo(f"warning: {orphan}", err=True)


def _branches_if_reachable(settings: Settings, context: Context) -> Branches | None:
    """The database's branches, or None (and why, on stderr) when it cannot be read now."""
    try:
        reach_database(settings, wait=0)
        return read_branches(context)
    except ConfigError as exc:
        click.echo(f"note: database state not shown: {exc}", err=True)
        return None


def _table(header: Sequence[tuple[str, ...]], rows: Sequence[tuple[str, ...]]) -> None:
    every = [*header, *rows]
    widths = [max(len(row[i]) for row in every) for i in range(len(every[0]))]
    for row in every:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


@cli.command("drop-orphan")
@click.argument("branch")
@click.option("--yes", is_flag=True, help="Really drop the branch's tables and their data.")
@clear_errors
def drop_orphan(branch: str, yes: bool) -> None:
    """Drop the tables of BRANCH, a branch in the database whose plugin is not installed
    (see `todo-api plugins --orphans`), and forget it. Its data is gone for good."""
    settings = Settings()
    context = load(settings)
    reach_database(settings)
    if not yes:
        found = find_orphan(read_branches(context), branch)
        tables = "tables not recorded" if found.tables is None else ", ".join(found.tables)
        raise ConfigError(
            f"this drops branch {branch}'s tables ({tables or 'none'}) and their data for good: "
            f"run `todo-api drop-orphan {branch} --yes`"
        )
    dropped = asyncio.run(
        _on_database(context, lambda engine: drop_branch(context.migrations, engine, branch))
    )
    click.echo(
        f"dropped branch {branch} ({dropped.revision}): {', '.join(dropped.tables or ()) or 'no tables'}"
    )


@cli.command("new-plugin")
@click.argument("name")
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write it (absent or empty); default ./todo-api-NAME.",
)
@clear_errors
def new_plugin_command(name: str, folder: Path | None) -> None:
    """Write a new plugin NAME: an installable package with a model, routes, settings, its first
    migration, a README and tests that pass as generated."""
    target = folder or Path(f"todo-api-{name.replace('_', '-')}")
    for path in new_plugin(name, target):
        click.echo(f"created {path}")
    click.echo(
        f"next: pip install -e '{target}[test]', add \"{name}\" to [plugins] enabled in "
        f"plugins.toml, then `pytest {target}` and `todo-api migrate`"
    )


@cli.command()
@clear_errors
def openapi() -> None:
    """Print the OpenAPI schema as JSON."""
    click.echo(json.dumps(create_app().openapi(), indent=2))
