"""Task: T-162
Spec: specs/features/jobs.md §Schema

PgQueuer's schema, as the pinned version renders it: the install SQL `jobs_0001` runs and the
table names the plugin's own statements use. PgQueuer reads its `PGQUEUER_*` environment
variables (a prefix, a schema) here too, so the migration, the worker and these statements
always agree; leave them unset.
"""

from pgqueuer.adapters.persistence.qb import QueryBuilderEnvironment

_ENVIRONMENT = QueryBuilderEnvironment()
TABLES = _ENVIRONMENT.settings.qualified


def install_sql() -> str:
    return _ENVIRONMENT.build_install_query()


def uninstall_sql() -> str:
    return _ENVIRONMENT.build_uninstall_query()
