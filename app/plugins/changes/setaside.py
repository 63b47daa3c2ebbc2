"""Task: T-206, T-208
Spec: specs/features/plugins.md §Events, §Command line

Changes an after-commit consumer set aside: `todo-api set-aside list|retry ID|drop ID`, and
their number in readiness (`counts.set_aside_changes`; the instance stays ready: the other
changes flow, and an operator decides what to do with these).
"""

import sys

import click

from app.core import CommandLine, Count, Database, ReadinessCheck
from app.plugins.changes.queries import (
    SET_ASIDE_COUNT,
    SET_ASIDE_DROP,
    SET_ASIDE_LIST,
    SET_ASIDE_RETRY,
)


def readiness() -> ReadinessCheck:
    async def check(db: Database) -> Count:
        return Count("set_aside_changes", await db.fetchval(SET_ASIDE_COUNT))

    return check


@click.group("set-aside")
def set_aside() -> None:
    """Changes an after-commit consumer could not handle and set aside."""


@set_aside.command("list")
@click.pass_obj
def list_command(command_line: CommandLine) -> None:
    """One line each: id, consumer, the change (table, id, op, user), tries, error, when."""
    rows = command_line.on_database(lambda db: db.fetch(SET_ASIDE_LIST))
    if not rows:
        click.echo("nothing set aside")
        return
    for row in rows:
        state = " (retry asked)" if row["retry"] else ""
        click.echo(
            f"{row['id']}  {row['consumer']}  {row['entity']} {row['entity_id']} {row['op']}"
            f"  user {row['user_id']}  {row['attempts']} tries  {row['error_type']}:"
            f" {row['error']}  {row['at'].isoformat(timespec='seconds')}{state}"
        )


@set_aside.command("retry")
@click.argument("item", type=int)
@click.pass_obj
def retry_command(command_line: CommandLine, item: int) -> None:
    """Hand change ITEM to its consumer once more (a running instance takes it at once)."""
    found = command_line.on_database(lambda db: db.fetch(SET_ASIDE_RETRY, id=item))
    if not found:
        click.echo(f"error: nothing set aside with id {item}", err=True)
        sys.exit(1)
    click.echo(
        f"{item}: handed back to its consumer; it goes when it succeeds, else stays with the new"
        " error (`todo-api set-aside list`)"
    )


@set_aside.command("drop")
@click.argument("item", type=int)
@click.pass_obj
def drop_command(command_line: CommandLine, item: int) -> None:
    """Forget change ITEM: its consumer never handles it."""
    if command_line.on_database(lambda db: db.fetchval(SET_ASIDE_DROP, id=item)) is None:
        click.echo(f"error: nothing set aside with id {item}", err=True)
        sys.exit(1)
    click.echo(f"{item}: dropped")
