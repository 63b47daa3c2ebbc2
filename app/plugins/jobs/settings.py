"""Task: T-163
Spec: specs/features/jobs.md §Settings

The `[plugins.jobs]` table of plugins.toml.
"""

from pydantic import BaseModel, ConfigDict, Field


class JobsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Run a worker inside every `todo-api serve` process. `false` where workers are scaled apart
    # (`todo-api worker` runs one whatever this says).
    worker: bool = True
    # A running job whose worker sent no heartbeat for this long is taken by another worker
    # (heartbeats go every half of it): how soon a job of a killed worker runs again.
    lease_seconds: float = Field(30, gt=0)
    # How often an idle worker looks for jobs deferred elsewhere when it cannot LISTEN (behind a
    # transaction pooler without DATABASE_DIRECT_URL). Listening workers are woken at once.
    poll_seconds: float = Field(2, gt=0)
    # Readiness fails when a due job has waited longer than this: no worker is taking jobs.
    stuck_after_seconds: float = Field(300, gt=0)
    # Finished jobs' log and statistics rows are deleted after this many days.
    retention_days: int = Field(14, ge=1)
