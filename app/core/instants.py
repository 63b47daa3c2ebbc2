"""Task: T-200, T-455
Spec: specs/api/rest-endpoints.md §Limits

The instants the API can represent: finite, and held by both PostgreSQL and Python; and the time
zones it knows, by their IANA names.
"""

from datetime import UTC, datetime
from functools import cache
from typing import Annotated
from zoneinfo import ZoneInfo, available_timezones

from pydantic import AfterValidator, AwareDatetime

EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=UTC)


def _z(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


OUT_OF_RANGE = f"out of range: an instant from {_z(EARLIEST)} to {_z(LATEST)}"


def representable(value: datetime) -> datetime:
    """`value` in UTC; a ValueError (a 422 naming the field) outside [EARLIEST, LATEST], or when
    UTC cannot hold it at all, as `0001-01-01T00:00:00+14:00`."""
    try:
        value = value.astimezone(UTC)
    except OverflowError:
        raise ValueError(OUT_OF_RANGE) from None
    if not EARLIEST <= value <= LATEST:
        raise ValueError(OUT_OF_RANGE)
    return value


# Naive datetimes are refused; aware ones are stored and answered in UTC.
Instant = Annotated[AwareDatetime, AfterValidator(representable)]


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def time_zone(name: str) -> ZoneInfo:
    """The IANA time zone `name` (`Europe/Berlin`); a ValueError (a 422 naming the field, in a
    validator) when the database of zones has none of that name. Looked up in its list, not
    opened by name: `ZoneInfo` would also take a path-like key or a file that is no zone."""
    if name not in _time_zones():
        raise ValueError("is not a known IANA time zone, such as Europe/Berlin")
    return ZoneInfo(name)
