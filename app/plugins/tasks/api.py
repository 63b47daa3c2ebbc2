"""Task: T-241, T-295
Spec: specs/features/plugins.md §Plugin APIs

What the tasks plugin offers the plugins that require it: the task model, the write helpers a
plugin creating or deleting tasks needs, and hearing of task writes in their transaction.
"""

from app.plugins.tasks.models import Priority, Task, new_task
from app.plugins.tasks.queries import COMPLETING, DELETE, GET, create_when
from app.plugins.tasks.subtrees import HAND_OVER
from app.plugins.tasks.writes import InTransaction, Operation, TaskChange, TaskWrites, Unit

__all__ = [
    "COMPLETING",
    "DELETE",
    "GET",
    "HAND_OVER",
    "InTransaction",
    "Operation",
    "Priority",
    "Task",
    "TaskChange",
    "TaskWrites",
    "Unit",
    "create_when",
    "new_task",
]
