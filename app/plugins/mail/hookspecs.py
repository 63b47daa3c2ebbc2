"""Task: T-380
Spec: specs/features/plugins.md §Hooks

The hook the mail plugin calls on the plugins that send mail.
"""

# Hookspecs are signatures with a docstring for a body, which pluggy never calls.
# mypy: disable-error-code="empty-body"

from collections.abc import Mapping

from app.core import Context, hookspec
from app.plugins.mail.api import Compose


@hookspec
def mail_letters(context: Context) -> Mapping[str, Compose]:
    """The kinds of message this plugin sends, by name (`"<plugin>.<what>"`): each composes its
    message from a payload, in the job that sends it (`None`: nothing to send). Implement it
    with `@hookimpl(optionalhook=True)` when the plugin does not require `mail`."""
