"""Task: T-173, T-295, T-305, T-352, T-372
Spec: specs/features/recurring.md §Completion, §Subtasks, §Shared lists;
specs/features/sharing.md §Tasks in shared lists

Making the next occurrence of a series: when an occurrence is completed (the in-transaction
subscriber on `tasks`) and when "this one" is deleted. It happens inside the writing
transaction, so it commits or rolls back with the write that caused it, and it happens once
per occurrence: the predecessor's `successor_id` is set in the statement that makes it, only
while it is unset, and the predecessor's recurrence row is locked by the first statement.

Cost: a completed task without a `due_at` sends nothing; one with a `due_at` sends one
`SELECT … FOR UPDATE` (does it recur, and has it a successor yet?); one that recurs, one more
statement (`SPAWN`: link, task and recurrence in one); one with subtasks, one more (`HAND_OVER`:
they move under the new occurrence, open again, as Todoist resets them).

The next occurrence is created by whoever completed (or deleted) the one before it: its
`created_by` and `updated_by` are the caller, and it keeps the assignee, as Todoist does. An
editor of a shared list reads and links the recurrence at their role (it is `Shared` as its
task is), and the new task and its recurrence are the list owner's, in the same list.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from app.core import Context, Executor, time_zone, utcnow
from app.plugins.recurring import queries, rules
from app.plugins.recurring.settings import RecurringSettings
from app.plugins.tasks.api import HAND_OVER, TaskChange, TaskWrites, new_task

# The task's fields an occurrence copies from the one before it (a recurring subtask's next
# occurrence is a subtask of the same task).
COPIED = ("title", "description", "priority", "tags", "list_id", "parent_id", "assignee_id")


class Occurrences:
    """The plugin's per-app state: its settings, and the app's task writes, whose subscribers
    are told of each occurrence made."""

    def __init__(self, settings: RecurringSettings, context: Context) -> None:
        self.settings = settings
        self._context = context

    @property
    def writes(self) -> TaskWrites:
        # Asked for once the app is assembled: the subscribers include this plugin's own.
        return TaskWrites.of(self._context)

    async def on_task_write(self, db: Executor, change: TaskChange) -> None:
        """The `InTransaction` handler of task writes: a completed occurrence gets its successor."""
        task = change.data
        if change.op != "update" or not task or not task.get("completed"):
            return
        if task.get("due_at") is None:  # no anchor, so no rule applies (none can be set)
            return
        await self.make_next(db, change.id, task)

    async def make_next(self, db: Executor, task_id: str, task: Mapping[str, Any]) -> str | None:
        """Make the occurrence after `task` (its row as JSON values or as read), if it recurs,
        has none yet, and its series goes on: the new task's id, else None."""
        if task.get("due_at") is None:
            return None
        pending = await db.fetchrow(queries.PENDING, task_id=task_id)
        if pending is None or pending["successor_id"] is not None:
            return None
        rule = rules.load(pending["rule"])
        due_at = _aware(task["due_at"])
        following = rules.next_due(
            rule, time_zone(pending["timezone"]), due_at, self.settings.horizon_years
        )
        if following is None:  # the series ends here (or its next one costs over the budget)
            return None
        values = {name: task[name] for name in COPIED}
        values |= {"completed": False, "due_at": following}
        assert db.owner is not None
        now = utcnow()
        successor = new_task(values, db.owner, now)
        made = await db.fetchrow(
            queries.SPAWN,
            task_id=task_id,
            now=now,
            next_rule=rules.successor_rule(rule).text,
            **successor,
        )
        if made is None:  # linked meanwhile (cannot happen under the lock; harmless anyway)
            return None
        successor["user_id"] = made["user_id"]  # the list's owner, whoever completed
        await self.writes.tell(db, "create", successor)  # the other subscribers hear of it
        if made["has_subtasks"]:
            # The subtasks go on with the series: under the new occurrence, open again.
            for row in await db.fetch(HAND_OVER, id=task_id, to=successor["id"], now=now):
                await self.writes.tell(db, "update", row)
        return str(made["task_id"])


def _aware(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)
