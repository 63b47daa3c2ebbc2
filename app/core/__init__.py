"""Task: T-004, T-111
Spec: specs/features/plugins.md §Plugin author API

The kernel's public API: everything a plugin may import from `app.core`.
"""

from app.core.context import Context
from app.core.conventions import new_id, utcnow
from app.core.dependencies import DB, CurrentUser, OwnedDB, public
from app.core.errors import ConfigError
from app.core.etags import etag, if_match_fails, if_none_match_hits, matching_versions
from app.core.hookspecs import hookimpl
from app.core.idempotency import (
    KEEP_KEYS_FOR,
    REPLAYED_HEADER,
    IdempotencyKeyHeader,
    replay_stored,
    request_hash,
)
from app.core.ownership import Owned, OwnershipError
from app.core.pool import Database, DatabaseUnavailable, Executor, Transaction
from app.core.principal import AuthenticationError, Authenticator, Principal
from app.core.problems import Problem
from app.core.readiness import ReadinessCheck
from app.core.settings import Settings

__all__ = [
    "DB",
    "KEEP_KEYS_FOR",
    "REPLAYED_HEADER",
    "AuthenticationError",
    "Authenticator",
    "ConfigError",
    "Context",
    "CurrentUser",
    "Database",
    "DatabaseUnavailable",
    "Executor",
    "IdempotencyKeyHeader",
    "Owned",
    "OwnedDB",
    "OwnershipError",
    "Principal",
    "Problem",
    "ReadinessCheck",
    "Settings",
    "Transaction",
    "etag",
    "hookimpl",
    "if_match_fails",
    "if_none_match_hits",
    "matching_versions",
    "new_id",
    "public",
    "replay_stored",
    "request_hash",
    "utcnow",
]
