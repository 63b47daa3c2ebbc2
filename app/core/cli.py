"""Task: T-015
Spec: specs/features/plugins.md §Command line

The `todo-api` command: `serve`, `migrate`, `plugins`, `openapi`, plus plugins' commands.

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

from app.core import redaction
from app.core.app import create_app, database_url
from app.core.context import Context
from app.core.database import create_engine
from app.core.errors import ConfigError
from app.core.installed import installed_plugins
from app.core.migrations import new_revision
from app.core.plugins import load, per_plugin
from app.core.server import uvicorn_options
from app.core.settings import Settings


def _configure_logging(settings: Settings) -> None:
    redaction.install()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )


def _clear_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ConfigError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)

    return run


async def migrate_database(context: Context) -> None:
    engine = create_engine(context.settings, database_url(context.settings))
    try:
        await context.migrations.upgrade(engine)
    finally:
        await engine.dispose()


@click.group()
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Todo API: a pluggable multi-user todo REST backend."""


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1))
@click.option("--no-migrate", is_flag=True, help="Do not run migrations at start-up.")
@_clear_errors
def serve(host: str, port: int, workers: int, no_migrate: bool) -> None:
    """Migrate (under an advisory lock, safe with several instances) and serve the API."""
    settings = Settings()
    _configure_logging(settings)
    context = load(settings)
    create_app(settings, context)  # any configuration error surfaces here, as one line
    if not no_migrate:
        asyncio.run(migrate_database(context))
    uvicorn.run(
        "app.core.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        **uvicorn_options(settings),
    )


@cli.command()
@_clear_errors
def migrate() -> None:
    """Upgrade every enabled plugin's migrations to head."""
    settings = Settings()
    _configure_logging(settings)
    context = load(settings)
    asyncio.run(migrate_database(context))
    click.echo(f"migrated: {', '.join(context.migrations.heads) or 'nothing to migrate'}")


@cli.command()
@click.argument("plugin")
@click.option("-m", "--message", required=True, help="What the revision does.")
@_clear_errors
def revision(plugin: str, message: str) -> None:
    """Start a migration in PLUGIN's Alembic branch, to fill in by hand."""
    installed = installed_plugins()
    if plugin not in installed:
        raise ConfigError(f"unknown plugin {plugin!r}; installed: {', '.join(sorted(installed))}")
    click.echo(f"created {new_revision(installed, plugin, message)}")


@cli.command()
@_clear_errors
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
@_clear_errors
def openapi() -> None:
    """Print the OpenAPI schema as JSON."""
    click.echo(json.dumps(create_app().openapi(), indent=2))


def main() -> None:
    try:
        context = load(Settings())
    except ConfigError:
        context = None  # the built-in commands report it properly
    if context is not None:
        for found in context.hook.cli_commands():
            for command in found:
                cli.add_command(command)
    cli()
