"""Task: T-430
Spec: specs/features/calendar.md §Settings

The calendar plugin's `[plugins.calendar]` table.
"""

from pydantic import BaseModel, ConfigDict, Field


class CalendarSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # How many feeds one user may have (a 409 beyond).
    max_feeds: int = Field(20, ge=1, le=1000)
    # The most tasks one feed shows: those due nearest to now, before and after.
    max_tasks: int = Field(1000, ge=1, le=10_000)
    # How often a calendar app is asked to poll (REFRESH-INTERVAL, X-PUBLISHED-TTL).
    refresh_minutes: int = Field(15, ge=1, le=7 * 24 * 60)
    # Bytes of rendered documents a process keeps, by ETag, to answer an unchanged feed without
    # rendering it again (0: none).
    cache_bytes: int = Field(32 * 1024 * 1024, ge=0, le=1024 * 1024 * 1024)
    # The right-hand side of every UID (`<task id>@<uid_domain>`): fixed, so a UID never
    # changes with the host name the feed was fetched by.
    uid_domain: str = Field("todo-api", min_length=1, max_length=200, pattern=r"^[\w.-]+$")
