"""Task: T-004, T-111, T-112, T-151
Spec: specs/features/plugins.md §Plugin author API

The kernel's public API: everything a plugin may import from `app.core`.

The test kit's helpers (`ApiUser`, `AppClient`, `MakeUser`, `assert_isolated`, `Isolation`,
`sign_up`) are importable from here too, but only imported when asked for: they need pytest,
which a server does not install.
"""

import importlib
from typing import TYPE_CHECKING

from app.core.context import Context
from app.core.conventions import id_or_404, is_id, new_id, utcnow
from app.core.dependencies import DB, CurrentUser, OwnedDB, Writes, public
from app.core.documented import documented
from app.core.errors import ConfigError
from app.core.etags import etag, if_match_fails, if_none_match_hits, matching_versions
from app.core.events import (
    AfterCommit,
    Change,
    ChangeSerializer,
    InTransaction,
    Unit,
    Writer,
)
from app.core.hookspecs import hookimpl
from app.core.idempotency import (
    KEEP_KEYS_FOR,
    REPLAYED_HEADER,
    IdempotencyKeyHeader,
    replay_stored,
    request_hash,
)
from app.core.instants import EARLIEST, LATEST, Instant, representable
from app.core.jobs import Job, Periodic, Task
from app.core.marks import body_limit, no_store
from app.core.openapi import ETAG, IDEMPOTENT_REPLAYED, LINK, LOCATION, RETRY_AFTER, header
from app.core.outbound import DestinationRefused, OutboundClient, OutboundError
from app.core.ownership import Owned, OwnershipError
from app.core.pool import Database, DatabaseUnavailable, Executor, Transaction
from app.core.principal import AuthenticationError, Authenticator, Principal
from app.core.problems import Problem, invalid
from app.core.query import QueryParameters, page_size
from app.core.readiness import Count, ReadinessCheck
from app.core.redaction import error_summary
from app.core.settings import Settings
from app.core.signatures import new_message_id, new_secret, signature_headers
from app.core.slots import free_slot, take_slot
from app.core.text import NO_NUL

if TYPE_CHECKING:
    from app.testing import ApiUser as ApiUser
    from app.testing import AppClient as AppClient
    from app.testing import Isolation as Isolation
    from app.testing import MakeUser as MakeUser
    from app.testing import assert_isolated as assert_isolated
    from app.testing import sign_up as sign_up

_TEST_KIT = {"ApiUser", "AppClient", "Isolation", "MakeUser", "assert_isolated", "sign_up"}


def __getattr__(name: str) -> object:
    if name in _TEST_KIT:
        return getattr(importlib.import_module("app.testing"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DB",
    "EARLIEST",
    "ETAG",
    "IDEMPOTENT_REPLAYED",
    "KEEP_KEYS_FOR",
    "LATEST",
    "LINK",
    "LOCATION",
    "NO_NUL",
    "REPLAYED_HEADER",
    "RETRY_AFTER",
    "AfterCommit",
    "AuthenticationError",
    "Authenticator",
    "Change",
    "ChangeSerializer",
    "ConfigError",
    "Context",
    "Count",
    "CurrentUser",
    "Database",
    "DatabaseUnavailable",
    "DestinationRefused",
    "Executor",
    "IdempotencyKeyHeader",
    "InTransaction",
    "Instant",
    "Job",
    "OutboundClient",
    "OutboundError",
    "Owned",
    "OwnedDB",
    "OwnershipError",
    "Periodic",
    "Principal",
    "Problem",
    "QueryParameters",
    "ReadinessCheck",
    "Settings",
    "Task",
    "Transaction",
    "Unit",
    "Writer",
    "Writes",
    "body_limit",
    "documented",
    "error_summary",
    "etag",
    "free_slot",
    "header",
    "hookimpl",
    "id_or_404",
    "if_match_fails",
    "if_none_match_hits",
    "invalid",
    "is_id",
    "matching_versions",
    "new_id",
    "new_message_id",
    "new_secret",
    "no_store",
    "page_size",
    "public",
    "replay_stored",
    "representable",
    "request_hash",
    "signature_headers",
    "take_slot",
    "utcnow",
]
