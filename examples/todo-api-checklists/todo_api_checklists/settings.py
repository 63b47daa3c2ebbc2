"""Task: T-124
Spec: specs/features/plugins.md §Writing a plugin

The `[plugins.checklists]` table of plugins.toml. Every field has a default (no table means all
defaults); unknown keys are refused, so a misspelling stops start-up with one line.
"""

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The most items one task may list at once.
    page_size: int = Field(default=100, ge=1, le=1000)
