"""Task: T-174, T-210, T-279
Spec: specs/features/recurring.md §Endpoints; specs/api/rest-endpoints.md §Recurring

`/api/v1/tasks/{task_id}/recurrence` (the rule a task recurs by) and
`/api/v1/tasks/{task_id}/occurrence` (deleting one occurrence, or it and the rest of its
series). Every statement goes through `OwnedDB` or a unit of `Writes`: another user's task is
not found (404), like a missing one.
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from pydantic import BaseModel, Field

import app.plugins.tasks.api as tasks
from app.core import (
    NO_NUL,
    Executor,
    OwnedDB,
    documented,
    id_or_404,
    invalid,
    json_response,
    new_id,
    one_or_404,
    time_zone,
    utcnow,
)
from app.plugins.recurring import queries, rules
from app.plugins.recurring.occurrences import Occurrences

EXAMPLE_ID = "3f2b8c1e-7d4a-4e1b-9a65-0c2d5e8f1a47"
TaskId = Annotated[
    str,
    Path(
        description="The task's id; one that names no task of yours, or is no UUID, is a 404",
        examples=[EXAMPLE_ID],
    ),
]
NOT_FOUND = {404: {"description": "No such task of yours (or the id is no UUID)"}}
NO_RECURRENCE = {404: {"description": "No such task of yours, or it does not recur"}}


class RecurrenceIn(BaseModel):
    """How a task recurs: an RFC 5545 rule, anchored to the task's `due_at`, in a time zone."""

    model_config = documented(
        {"rule": "FREQ=WEEKLY;BYDAY=MO,TH", "timezone": "Europe/Berlin"}, extra="forbid"
    )

    rule: str = Field(min_length=1, max_length=rules.MAX_RULE_LENGTH, pattern=NO_NUL)
    """An RRULE (`FREQ=…;…`, the `RRULE:` prefix optional) without DTSTART: the task's `due_at`
    is its start. UNTIL is a UTC date-time (`20271231T235959Z`); at most once a minute."""
    timezone: str = Field(min_length=1, max_length=64, pattern=NO_NUL)
    """The IANA time zone whose wall clock the rule follows (`Europe/Berlin`)."""


class RecurrenceOut(BaseModel):
    """A task's recurrence."""

    model_config = documented(
        {
            "task_id": EXAMPLE_ID,
            "series_id": "0d6c2f7e-5b8a-4c3d-9e1f-2a4b6c8d0e1f",
            "rule": "FREQ=WEEKLY;BYDAY=MO,TH",
            "timezone": "Europe/Berlin",
            "next_due_at": "2030-01-06T08:00:00Z",
            "successor_id": None,
            "created_at": "2030-01-01T09:30:00Z",
            "updated_at": "2030-01-01T09:30:00Z",
            "version": 1,
        }
    )

    task_id: str
    """The occurrence (task) this rule belongs to."""
    series_id: str
    """Shared by every occurrence of the series."""
    rule: str
    """The rule, normalised: upper case, FREQ first, COUNT counting this occurrence and the
    ones after it, UNTIL in UTC."""
    timezone: str
    """The IANA time zone of its wall clock."""
    next_due_at: datetime | None
    """The `due_at` the next occurrence gets when this one is completed (from the task's
    current `due_at`); null when the series ends with this one."""
    successor_id: str | None
    """The next occurrence's task id, once it is made (it may have been deleted since)."""
    created_at: datetime
    """When the task started to recur (UTC)."""
    updated_at: datetime
    """When the rule last changed (UTC)."""
    version: int
    """1 when created, +1 on every change."""


class Refusal(ValueError):
    """A rule not set: `field` (`rule`, `timezone`, or None: the task) and why."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field


def upcoming(row: Any, due_at: datetime | None, horizon: int) -> datetime | None:
    """The due_at the next occurrence would get, from the row's rule and the task's due_at."""
    if due_at is None or row["successor_id"] is not None:
        return None
    rule = rules.load(row["rule"])
    return rules.next_due(rule, time_zone(row["timezone"]), due_at, horizon)


async def put_rule(
    db: Executor, task_id: str, current: Any, text: str, timezone: str, horizon: int
) -> tuple[Any, datetime | None]:
    """Make the task recur by `text` in `timezone`, or change its rule: `current` is its due_at
    and recurrence as TASK_AND_RECURRENCE reads them. Answers the recurrence row and the next
    occurrence's due_at; Refusal for a rule that cannot apply (PUT /recurrence and quick add)."""
    due_at = current["due_at"]
    if due_at is None:
        raise Refusal(None, "the task has no due_at: set one first, the rule starts from it")
    try:
        zone = time_zone(timezone)
    except ValueError as refused:
        raise Refusal("timezone", str(refused)) from None
    try:
        rule = rules.parse(text)
        # On the event loop: rules.BUDGET bounds it to some tens of milliseconds at worst
        # (recurring.md §Bounded work), and no thread goes on after the request.
        following = rules.following(rule, zone, due_at, horizon)
    except rules.RuleError as refused:
        raise Refusal("rule", str(refused)) from None
    if following is None:
        raise Refusal(
            "rule", f"never produces an occurrence after the task's due_at (within {horizon} years)"
        )
    if current["rule"] == rule.text and current["timezone"] == timezone:
        return current, following  # unchanged: nothing written
    row = await db.fetchrow(
        queries.PUT,
        task_id=task_id,
        series_id=current["series_id"] or new_id(),
        rule=rule.text,
        timezone=timezone,
        now=utcnow(),
    )
    if row is None:  # the task was deleted meanwhile, or the same rule was just written
        row = one_or_404(await db.fetchrow(queries.GET, task_id=task_id), "Task")
        following = upcoming(row, due_at, horizon)
    return row, following


def build_router(occurrences: Occurrences) -> APIRouter:
    router = APIRouter(prefix="/tasks/{task_id}", tags=["recurring"])
    horizon = occurrences.settings.horizon_years

    def answer(row: Any, following: datetime | None) -> Response:
        """The recurrence `row`, whose next occurrence is `following` unless it was made."""
        made = row["successor_id"] is not None
        return json_response(
            RecurrenceOut.model_validate(dict(row) | {"next_due_at": None if made else following})
        )

    @router.put(
        "/recurrence",
        name="put",
        summary="Make a task recur, or change its rule (from the next occurrence on)",
        response_model=RecurrenceOut,
        responses=NOT_FOUND,
        description="Makes the task recur by an RFC 5545 `RRULE` in an IANA time zone, anchored "
        "to its `due_at`: completing an occurrence makes the next one. On a recurring task it "
        "changes the rule from the next occurrence on.",
    )
    async def put_recurrence(task_id: TaskId, body: RecurrenceIn, db: OwnedDB) -> Response:
        task_id = id_or_404(task_id, "Task")
        current = one_or_404(
            await db.fetchrow(queries.TASK_AND_RECURRENCE, task_id=task_id), "Task"
        )
        try:
            row, following = await put_rule(db, task_id, current, body.rule, body.timezone, horizon)
        except Refusal as refused:
            where = ("body",) if refused.field is None else ("body", refused.field)
            raise invalid(where, str(refused)) from None
        return answer(row, following)

    @router.get(
        "/recurrence",
        name="get",
        summary="Get how a task recurs",
        response_model=RecurrenceOut,
        responses=NO_RECURRENCE,
        description="Answers how the task recurs: its rule, its time zone and when the next "
        "occurrence is due; a 404 if it does not recur.",
    )
    async def get_recurrence(task_id: TaskId, db: OwnedDB) -> Response:
        task_id = id_or_404(task_id, "Task")
        current = one_or_404(
            await db.fetchrow(queries.TASK_AND_RECURRENCE, task_id=task_id), "Task"
        )
        if current["task_id"] is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "Task does not recur")
        return answer(current, upcoming(current, current["due_at"], horizon))

    @router.delete(
        "/recurrence",
        name="delete",
        summary="Stop a task recurring (the task stays)",
        status_code=status.HTTP_204_NO_CONTENT,
        responses=NO_RECURRENCE,
        description="Stops the task recurring: completing it makes no next occurrence. The task "
        "itself stays.",
    )
    async def delete_recurrence(task_id: TaskId, db: OwnedDB) -> Response:
        if await db.fetchval(queries.DELETE, task_id=id_or_404(task_id, "Task")) is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "No such recurring task")
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.delete(
        "/occurrence",
        name="delete_occurrence",
        summary="Delete this occurrence (the series goes on) or it and all future ones",
        status_code=status.HTTP_204_NO_CONTENT,
        responses=NOT_FOUND,
        description="Deletes this occurrence of a recurring task: with `scope=this` the next one "
        "is made and the series goes on; with `scope=future` the series ends with it.",
    )
    async def delete_occurrence(
        task_id: TaskId,
        db: OwnedDB,
        scope: Annotated[
            Literal["this", "future"],
            Query(
                description="`this`: delete this occurrence and make the next one (the series "
                "goes on); `future`: delete it and end the series (what `DELETE /tasks/{id}` "
                "does). Default: `this`"
            ),
        ] = "this",
    ) -> Response:
        task_id = id_or_404(task_id, "Task")
        async with occurrences.writes.unit(db, atomic=scope == "this") as unit:
            if scope == "this":
                task = one_or_404(await unit.db.fetchrow(tasks.GET, id=task_id), "Task")
                await occurrences.make_next(unit.db, task_id, task)
            one_or_404(await unit.write(tasks.DELETE, id=task_id), "Task")
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router
