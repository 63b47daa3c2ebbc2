"""The `[plugins.checklists]` table of plugins.toml. Every field has a default (no table means all
defaults); unknown keys are refused, so a misspelling stops start-up with one line."""

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    page_size: int = Field(default=100, ge=1, le=1000)
