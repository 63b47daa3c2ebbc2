"""Task: T-015, T-062, T-063, T-064
Spec: specs/features/plugins.md §Command line

The `todo-api` command: `serve`, `migrate`, `config`, `plugins`, `openapi`, `revision`,
`--version`, plus plugins' commands.

Configuration problems (`ConfigError`) are printed as one line naming the fix, never as a
traceback, and exit with status 2.
"""

import asyncio
import json
import logging
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import click
import uvicorn
from pydantic import SecretStr
from sqlalchemy import make_url

from app.core import redaction
from app.core.app import create_app, database_url
from app.core.connectivity import check_database
from app.core.context import Context
from app.core.database import create_engine, engine_options
from app.core.errors import ConfigError
from app.core.installed import installed_plugins
from app.core.migrations import Step, new_revision
from app.core.plugins import load, per_plugin
from app.core.server import uvicorn_options
from app.core.settings import Settings

logger = logging.getLogger("todo_api")


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


def reach_database(settings: Settings) -> None:
    """Stop here, in one line, when the database cannot be reached or refuses us."""
    asyncio.run(check_database(database_url(settings), settings.database_pool_mode))


async def migrate_database(context: Context) -> list[Step]:
    engine = create_engine(context.settings, database_url(context.settings))
    try:
        return await context.migrations.upgrade(engine)
    finally:
        await engine.dispose()


def migrated(steps: list[Step]) -> list[str]:
    return [f"migrated {step}" for step in steps] or ["migrations: already at head"]


class _WithPluginCommands(click.Group):
    """The built-in commands, then the enabled plugins' `cli_commands`, loaded only when a name
    is not a built-in (or for `--help`): `--version` and the built-ins load the plugins once."""

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
    reach_database(settings)  # with --no-migrate too: a dead database is not "startup complete"
    if not no_migrate:
        for line in migrated(asyncio.run(migrate_database(context))):
            logger.info(line)
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
    reach_database(settings)
    for line in migrated(asyncio.run(migrate_database(context))):
        click.echo(line)


@cli.command()
@clear_errors
def config() -> None:
    """Print the effective configuration (secrets masked) and the enabled plugins."""
    settings = Settings()
    context = load(settings)
    for name in Settings.model_fields:
        default = name not in settings.model_fields_set and getattr(settings, name) is not None
        click.echo(f"{name.upper()} = {_shown(settings, name)}{'  (default)' if default else ''}")
    path = settings.plugins_file.resolve()
    missing = "" if path.is_file() else " (not found: every built-in plugin enabled)"
    click.echo(f"plugins file: {path}{missing}")
    click.echo(f"enabled plugins: {', '.join(context.enabled)}")


def _shown(settings: Settings, name: str) -> str:
    value = getattr(settings, name)
    if value is None:
        return "unset: embedded PostgreSQL" if name == "database_url" else "unset"
    if name in {"database_url", "database_direct_url"}:
        return _masked_url(value.get_secret_value())
    if isinstance(value, SecretStr):
        return "********"
    if isinstance(value, list):
        return ",".join(value) or "unset"  # FORWARDED_ALLOW_IPS's default: no proxy trusted
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
@clear_errors
def revision(plugin: str, message: str) -> None:
    """Start a migration in PLUGIN's Alembic branch, to fill in by hand."""
    installed = installed_plugins()
    if plugin not in installed:
        raise ConfigError(f"unknown plugin {plugin!r}; installed: {', '.join(sorted(installed))}")
    click.echo(f"created {new_revision(installed, plugin, message)}")


@cli.command()
@clear_errors
def plugins() -> None:
    """List installed plugins: source, version, enabled, routes and migration head."""
    settings = Settings()
    context = load(settings)
    create_app(settings, context)  # the same checks as `serve`
    routes = {
        name: sum(len(router.routes) for router in found)  # type: ignore[attr-defined]
        for name, found in per_plugin(context.hook.routers, context=context)
    }
    rows = [("NAME", "VERSION", "SOURCE", "ENABLED", "ROUTES", "MIGRATION HEAD")]
    for name, plugin in sorted(installed_plugins().items()):
        enabled = name in context.enabled
        rows.append(
            (
                name,
                plugin.version,
                plugin.source,
                "yes" if enabled else "no",
                str(routes.get(name, 0)) if enabled else "-",
                context.migrations.heads.get(name, "-") if enabled else "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


@cli.command()
@clear_errors
def openapi() -> None:
    """Print the OpenAPI schema as JSON."""
    click.echo(json.dumps(create_app().openapi(), indent=2))
