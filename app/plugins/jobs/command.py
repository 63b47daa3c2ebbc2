"""Task: T-163
Spec: specs/features/jobs.md §The worker, plugins.md §Command line

`todo-api worker`: the app without its HTTP server — every plugin's lifespan (so job handlers
find the clients and state they expect) and a job worker — until SIGTERM or SIGINT.
"""

import asyncio
import logging
import signal

import click
from fastapi import FastAPI

from app.core import CommandLine
from app.plugins.jobs.state import Jobs

logger = logging.getLogger("todo_api")


@click.command()
@click.option("--no-migrate", is_flag=True, help="Do not run migrations at start-up.")
@click.pass_obj
def worker(command_line: CommandLine, no_migrate: bool) -> None:
    """Run a job worker without serving HTTP (for workers scaled apart from the web)."""
    run_worker(command_line.start(migrate=not no_migrate))


def run_worker(app: FastAPI) -> None:
    """Run `app`'s lifespan with its job worker on, whatever `[plugins.jobs] worker` says,
    until a signal asks it to stop; running jobs finish first."""
    Jobs.of(app.state.context).worker_forced = True
    asyncio.run(_until_signalled(app))


async def _until_signalled(app: FastAPI) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with app.router.lifespan_context(app):
        await stop.wait()
        logger.info("job worker stopping: waiting for running jobs")
