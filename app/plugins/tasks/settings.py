"""Task: T-032
Spec: specs/api/rest-endpoints.md §Tasks

The `[plugins.tasks]` table of plugins.toml.
"""

from pydantic import BaseModel, ConfigDict, Field, model_validator


class TasksSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_page_size: int = Field(500, ge=1, le=10_000)
    default_page_size: int = Field(50, ge=1)

    @model_validator(mode="after")
    def _default_fits(self) -> "TasksSettings":
        if self.default_page_size > self.max_page_size:
            raise ValueError("default_page_size must not exceed max_page_size")
        return self
