"""Task: T-180
Spec: specs/features/reminders.md §Settings

The `[plugins.reminders]` table of plugins.toml.
"""

from pydantic import BaseModel, ConfigDict, Field


class RemindersSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The most reminders one task may carry (fired and cancelled ones count until deleted).
    max_per_task: int = Field(20, ge=1, le=1000)
    # When the safety-net sweep runs (cron, UTC; a sixth field is seconds): it fires every due
    # reminder whose own job was missed.
    sweep_cron: str = "* * * * *"
    # The most reminders one sweep fires; the rest wait for the next sweep.
    sweep_batch: int = Field(500, ge=1, le=10_000)
    # The inbox's page sizes.
    default_page_size: int = Field(50, ge=1, le=500)
    max_page_size: int = Field(200, ge=1, le=500)
