"""Task: T-200
Spec: specs/api/rest-endpoints.md §Limits

The instants the API can represent: finite, and held by both PostgreSQL and Python.

Python's `datetime.min` and `datetime.max` are the edges of its calendar, and asyncpg stores
them as `-infinity` and `infinity`, which no client and no `datetime` can read back. A day's
margin at each end keeps every zone's wall-clock time (UTC-12 … UTC+14) inside the calendar too.
Every datetime a request carries must lie in [`EARLIEST`, `LATEST`]; a series whose next
occurrence would fall outside ends there.
"""

from datetime import UTC, datetime

EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=UTC)
