"""Task: T-004, T-151
Spec: specs/features/plugins.md §Plugin author API

The kernel's public API: everything a plugin may import from `app.core`.
"""

from app.core.context import Context
from app.core.dependencies import DB, CurrentUser, OwnedDB, public
from app.core.documented import documented
from app.core.hookspecs import hookimpl
from app.core.marks import body_limit, no_store
from app.core.openapi import ETAG, LINK, LOCATION, RETRY_AFTER, header
from app.core.ownership import Owned, OwnershipError
from app.core.pool import Database, DatabaseUnavailable, Executor, Transaction
from app.core.principal import AuthenticationError, Authenticator, Principal
from app.core.problems import invalid
from app.core.readiness import ReadinessCheck

__all__ = [
    "DB",
    "ETAG",
    "LINK",
    "LOCATION",
    "RETRY_AFTER",
    "AuthenticationError",
    "Authenticator",
    "Context",
    "CurrentUser",
    "Database",
    "DatabaseUnavailable",
    "Executor",
    "Owned",
    "OwnedDB",
    "OwnershipError",
    "Principal",
    "ReadinessCheck",
    "Transaction",
    "body_limit",
    "documented",
    "header",
    "hookimpl",
    "invalid",
    "no_store",
    "public",
]
