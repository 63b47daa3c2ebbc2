"""Task: T-003
Spec: specs/features/plugins.md §Start-up errors

The one exception that stops start-up with a clear, single-line message.
"""


class ConfigError(Exception):
    """Configuration the app cannot start with; the message names the fix (the CLI prints it
    as one line)."""
