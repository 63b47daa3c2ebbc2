"""Task: T-423
Spec: specs/features/quickadd.md §Round trips

The one statement of quick add's own: the caller's list named by `@list` (their own or one
shared with them: the kernel scopes it), case-insensitively, their own first.
"""

from sqlalchemy import Text, bindparam, func, select
from sqlmodel import col

from app.core import caller
from app.plugins.tasks.api import TaskList

LIST_NAMED = (
    select(col(TaskList.id))
    .where(func.lower(col(TaskList.name)) == func.lower(bindparam("name", type_=Text)))
    .order_by((col(TaskList.user_id) == caller()).desc(), col(TaskList.created_at))
    .limit(1)
)
