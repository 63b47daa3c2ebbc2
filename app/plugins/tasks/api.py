"""Task: T-241, T-295, T-442
Spec: specs/features/plugins.md §Plugin APIs

What the tasks plugin offers the plugins that require it: the task and list models (a plugin
may hang its own rows off a list, referencing `lists.id`, and share them with the list's
members: `Shared(LIST_MEMBERS, column="list_id", read=Role.viewer, write=Role.editor)`), the write
helpers a plugin creating or deleting tasks needs, and hearing of task writes in their
transaction; and the request bodies and query of its task routes, for a plugin that
describes or forwards them (the MCP tools).
"""

from app.plugins.tasks.access import Shared
from app.plugins.tasks.filters import TaskQuery
from app.plugins.tasks.models import (
    LIST_MEMBERS,
    Priority,
    Role,
    Task,
    TaskList,
    default_list_id,
    new_task,
)
from app.plugins.tasks.order import TaskMove
from app.plugins.tasks.queries import COMPLETING, DELETE, GET, create_when
from app.plugins.tasks.schemas import TaskCreate, TaskOut, TaskUpdate
from app.plugins.tasks.subtrees import HAND_OVER
from app.plugins.tasks.writes import InTransaction, Operation, TaskChange, TaskWrites, Unit

__all__ = [
    "COMPLETING",
    "DELETE",
    "GET",
    "HAND_OVER",
    "LIST_MEMBERS",
    "InTransaction",
    "Operation",
    "Priority",
    "Role",
    "Shared",
    "Task",
    "TaskChange",
    "TaskCreate",
    "TaskList",
    "TaskMove",
    "TaskOut",
    "TaskQuery",
    "TaskUpdate",
    "TaskWrites",
    "Unit",
    "create_when",
    "default_list_id",
    "new_task",
]
