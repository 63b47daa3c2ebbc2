"""Task: T-170
Spec: specs/features/recurring.md §Settings

The `[plugins.recurring]` table of plugins.toml.
"""

from pydantic import BaseModel, ConfigDict, Field


class RecurringSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # A rule whose next occurrence is further away than this is refused (and a series whose
    # next one would be, ends): it bounds every search for the next occurrence.
    horizon_years: int = Field(100, ge=1, le=1000)
