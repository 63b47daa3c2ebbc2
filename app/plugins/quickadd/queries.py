"""Task: T-423, T-454
Spec: specs/features/quickadd.md §Round trips

Quick add's own statement: the tasks plugin's create, in the caller's list named by `@list`
(their own or one shared with them: the kernel scopes the look-up), case-insensitively, their
own first; looked up by the same statement, which inserts nothing when no list has the name.
"""

from sqlalchemy import Text, bindparam, func, select
from sqlmodel import col

from app.core import caller
from app.plugins.tasks.api import TaskList, create_when

LIST_NAMED = (
    select(col(TaskList.id))
    .where(func.lower(col(TaskList.name)) == func.lower(bindparam("name", type_=Text)))
    .order_by((col(TaskList.user_id) == caller()).desc(), col(TaskList.created_at))
    .limit(1)
    .scalar_subquery()
)
CREATE_IN_NAMED_LIST = create_when(LIST_NAMED.is_not(None), list_id=LIST_NAMED)
