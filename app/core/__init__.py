"""Task: T-004, T-111, T-112, T-151, T-240, T-279, T-320, T-400, T-430, T-441
Spec: specs/features/plugins.md §Plugin author API

The kernel's public API: everything a plugin may import from `app.core`.
"""

from app.core.conventions import id_or_404, is_id, new_id, one_or_404, secret_digest, utcnow
from app.core.db.migrations import Migrations
from app.core.db.ownership import (
    FORBIDDEN_SQLSTATE,
    OWNER_ROLE,
    Access,
    Membership,
    Need,
    Owned,
    OwnershipError,
    caller,
    owner_column,
)
from app.core.db.pool import (
    CONNECT_TIMEOUT_SECONDS,
    Database,
    DatabaseUnavailable,
    Executor,
    Row,
    Transaction,
)
from app.core.db.pool import Connection as RawConnection
from app.core.db.slots import free_slot, take_slot
from app.core.db.unmigrated import unmigrated
from app.core.db.urls import EngineOptions, listen_options
from app.core.errors import ConfigError
from app.core.http.dependencies import DB, CurrentUser, OwnedDB, bearer_token
from app.core.http.documented import documented
from app.core.http.etags import (
    ENTITY_TAGS_PATTERN,
    EntityTags,
    etag,
    if_match_fails,
    if_none_match_hits,
    if_none_match_names,
    matching_versions,
)
from app.core.http.idempotency import (
    KEEP_KEYS_FOR,
    REPLAYED_HEADER,
    IdempotencyKeyHeader,
    replay_stored,
    request_hash,
)
from app.core.http.marks import (
    body_limit,
    no_store,
    protected_resource,
    public,
    requires_role,
    requires_scope,
    scoped_per_call,
    token_endpoint,
    well_known,
)
from app.core.http.openapi import ETAG, IDEMPOTENT_REPLAYED, LINK, LOCATION, RETRY_AFTER, header
from app.core.http.parameters import QueryParameters, page_size
from app.core.http.principal import AuthenticationError, Authenticator, Principal
from app.core.http.problems import Problem, invalid
from app.core.http.responses import json_bytes, json_response
from app.core.http.scopes import known_scopes
from app.core.instants import EARLIEST, LATEST, Instant, representable, time_zone
from app.core.plugins.context import Context
from app.core.plugins.hookspecs import CommandLine, RowSerializer, hookimpl, hookspec
from app.core.plugins.readiness import Count, ReadinessCheck
from app.core.redaction import error_summary, log_unsent_mail
from app.core.settings import CommaSeparated, PluginSettings, Settings, StatementCache, one_of
from app.core.text import NO_NUL

__all__ = [
    "CONNECT_TIMEOUT_SECONDS",
    "DB",
    "EARLIEST",
    "ENTITY_TAGS_PATTERN",
    "ETAG",
    "FORBIDDEN_SQLSTATE",
    "IDEMPOTENT_REPLAYED",
    "KEEP_KEYS_FOR",
    "LATEST",
    "LINK",
    "LOCATION",
    "NO_NUL",
    "OWNER_ROLE",
    "REPLAYED_HEADER",
    "RETRY_AFTER",
    "Access",
    "AuthenticationError",
    "Authenticator",
    "CommaSeparated",
    "CommandLine",
    "ConfigError",
    "Context",
    "Count",
    "CurrentUser",
    "Database",
    "DatabaseUnavailable",
    "EngineOptions",
    "EntityTags",
    "Executor",
    "IdempotencyKeyHeader",
    "Instant",
    "Membership",
    "Migrations",
    "Need",
    "Owned",
    "OwnedDB",
    "OwnershipError",
    "PluginSettings",
    "Principal",
    "Problem",
    "QueryParameters",
    "RawConnection",
    "ReadinessCheck",
    "Row",
    "RowSerializer",
    "Settings",
    "StatementCache",
    "Transaction",
    "bearer_token",
    "body_limit",
    "caller",
    "documented",
    "error_summary",
    "etag",
    "free_slot",
    "header",
    "hookimpl",
    "hookspec",
    "id_or_404",
    "if_match_fails",
    "if_none_match_hits",
    "if_none_match_names",
    "invalid",
    "is_id",
    "json_bytes",
    "json_response",
    "known_scopes",
    "listen_options",
    "log_unsent_mail",
    "matching_versions",
    "new_id",
    "no_store",
    "one_of",
    "one_or_404",
    "owner_column",
    "page_size",
    "protected_resource",
    "public",
    "replay_stored",
    "representable",
    "request_hash",
    "requires_role",
    "requires_scope",
    "scoped_per_call",
    "secret_digest",
    "take_slot",
    "time_zone",
    "token_endpoint",
    "unmigrated",
    "utcnow",
    "well_known",
]
