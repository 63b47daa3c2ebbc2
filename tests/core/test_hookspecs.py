"""Task: T-004
Spec: specs/features/plugins.md §Hooks

Every hook is documented for plugin authors, synchronous, and never `firstresult`.
"""

import inspect
from pathlib import Path

import pytest

from app.core.plugins import hookspecs
from app.plugins.auth import hookspecs as auth_hookspecs
from app.plugins.calendar import hookspecs as calendar_hookspecs
from app.plugins.changes import hookspecs as changes_hookspecs
from app.plugins.jobs import hookspecs as jobs_hookspecs
from app.plugins.mail import hookspecs as mail_hookspecs
from app.plugins.tasks import hookspecs as tasks_hookspecs

SPEC = (Path(__file__).parents[2] / "specs" / "features" / "plugins.md").read_text()
# The kernel's hooks, and those the plugins that others build on declare for them.
HOOKS = [
    function
    for module in (
        hookspecs,
        auth_hookspecs,
        calendar_hookspecs,
        changes_hookspecs,
        jobs_hookspecs,
        mail_hookspecs,
        tasks_hookspecs,
    )
    for _, function in inspect.getmembers(module, inspect.isfunction)
    if hasattr(function, f"{hookspecs.PROJECT}_spec")
]


def test_there_are_hooks():
    assert {hook.__name__ for hook in HOOKS} >= {"routers", "authenticator", "lifespan"}


@pytest.mark.parametrize("hook", HOOKS, ids=lambda hook: hook.__name__)
def test_hook_is_documented_in_the_spec(hook):
    parameters = ", ".join(inspect.signature(hook).parameters)
    assert f"### `{hook.__name__}({parameters})`" in SPEC
    assert inspect.getdoc(hook)


@pytest.mark.parametrize("hook", HOOKS, ids=lambda hook: hook.__name__)
def test_hook_is_synchronous_and_collects_every_result(hook):
    assert not inspect.iscoroutinefunction(hook)
    options = getattr(hook, f"{hookspecs.PROJECT}_spec")
    assert not options.get("firstresult") and not options.get("historic")
