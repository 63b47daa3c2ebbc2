"""Task: T-004
Spec: specs/features/plugins.md §Plugin author API

The kernel's public API: everything a plugin may import from `app.core`.
"""

from app.core.context import Context
from app.core.dependencies import DB, CurrentUser, OwnedDB, public
from app.core.hookspecs import hookimpl
from app.core.jobs import Job, Periodic, Task
from app.core.marks import body_limit, no_store
from app.core.outbound import DestinationRefused, OutboundClient, OutboundError
from app.core.ownership import Owned, OwnershipError
from app.core.pool import Database, DatabaseUnavailable, Executor, Transaction
from app.core.principal import AuthenticationError, Authenticator, Principal
from app.core.readiness import ReadinessCheck
from app.core.signatures import new_message_id, new_secret, signature_headers

__all__ = [
    "DB",
    "AuthenticationError",
    "Authenticator",
    "Context",
    "CurrentUser",
    "Database",
    "DatabaseUnavailable",
    "DestinationRefused",
    "Executor",
    "Job",
    "OutboundClient",
    "OutboundError",
    "Owned",
    "OwnedDB",
    "OwnershipError",
    "Periodic",
    "Principal",
    "ReadinessCheck",
    "Task",
    "Transaction",
    "body_limit",
    "hookimpl",
    "new_message_id",
    "new_secret",
    "no_store",
    "public",
    "signature_headers",
]
