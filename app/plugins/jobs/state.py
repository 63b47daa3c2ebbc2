"""Task: T-163
Spec: specs/features/jobs.md §The worker

The jobs plugin's per-app state, shared by its hooks and its command.
"""

from dataclasses import dataclass

from app.core import Context
from app.plugins.jobs.settings import JobsSettings
from app.plugins.jobs.worker import Definitions

NAME = "jobs"


@dataclass
class Jobs:
    config: JobsSettings
    definitions: Definitions
    # `todo-api worker` runs the worker even where `[plugins.jobs] worker = false`.
    worker_forced: bool = False

    @property
    def runs_worker(self) -> bool:
        return self.config.worker or self.worker_forced

    @classmethod
    def of(cls, context: Context) -> "Jobs":
        return context.shared(
            NAME,
            lambda: cls(
                context.settings_for(NAME, JobsSettings), Definitions.of(context.collect("jobs"))
            ),
        )
