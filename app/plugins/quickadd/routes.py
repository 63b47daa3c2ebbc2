"""Task: T-423, T-424
Spec: specs/features/quickadd.md §Endpoint, §Round trips

`POST /api/v1/tasks/quick`: a task from one line of text, answered with how it was read.
The task is created as `POST /tasks` creates it (the tasks plugin's statement, `new_task`'s
values, a `Unit` telling its subscribers); a rule is set through the recurring plugin's
`quickadd_recurrence` in the same transaction, so the task never exists without its rule.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import asyncpg
from fastapi import APIRouter, Request, Response, status
from pydantic import AfterValidator, BaseModel, Field, StringConstraints

import app.plugins.tasks.api as tasks
from app.core import (
    LOCATION,
    NO_NUL,
    Context,
    OwnedDB,
    documented,
    etag,
    invalid,
    is_id,
    json_response,
    requires_scope,
    time_zone,
    utcnow,
)
from app.plugins.quickadd import parsing, queries
from app.plugins.quickadd.hookspecs import SetRule

MAX_TEXT = 1000
EXAMPLE_LIST_ID = "6c1f0b9a-2d3e-4f5a-8b7c-9d0e1f2a3b4c"


def _list_id(value: str) -> str:
    if not is_id(value):
        raise ValueError("not the id of one of your lists")
    return value


class QuickAdd(BaseModel):
    """One line of text to make a task of."""

    model_config = documented(
        {"text": "Pay rent every month on the 1st at 9am #home !high", "timezone": "Europe/Berlin"},
        {"text": "Call the dentist tomorrow at 14:30 @work p2", "list_id": EXAMPLE_LIST_ID},
        extra="forbid",
    )

    text: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT, pattern=NO_NUL),
    ]
    """The task as typed: a title with `#tags`, `!high`/`p1`, `@list`, a date, a time and a
    recurrence (`every Monday at 9`) among its words; at most 1000 characters."""
    timezone: (
        Annotated[str, Field(max_length=64), AfterValidator(lambda name: time_zone(name).key)]
        | None
    ) = None
    """The IANA time zone whose wall clock the dates and times are on; default UTC."""
    list_id: Annotated[str, Field(max_length=36), AfterValidator(_list_id)] | None = None
    """The list it goes in unless the text names one (`@list`); default: your default list."""


class Explanation(BaseModel):
    """How the text was read."""

    title: str
    """The words left once the rest was read."""
    due_at: datetime | None
    """The due date and time read, in UTC."""
    rrule: str | None
    """The recurrence read, as an RFC 5545 RRULE (set on the task by the recurring plugin)."""
    tags: list[str]
    priority: tasks.Priority | None
    """The priority said (`!high`, `p1`, …); None when none was (the task's is `none`)."""
    list: str | None
    """The list named with `@`, as said."""
    list_id: str
    """The list the task went in."""
    timezone: str
    """The IANA time zone whose wall clock dates and times were read on."""
    words: dict[str, list[str]]
    """Each part's exact words: `tags`, `priority`, `list`, `rrule`, `date`, `time`."""
    assumed: list[str]
    """Every guess made, in words (a weekday said on that day, a time without a date, …)."""


class QuickAddOut(BaseModel):
    """The task created, and how the text was read."""

    task: tasks.TaskOut
    """The task, exactly as `GET /api/v1/tasks/{id}` answers it."""
    parse: Explanation


@dataclass
class Clock:
    """The plugin's notion of now, which relative words ("tomorrow") are read from: the real
    time unless `fixed` (tests set it, so a table of phrases reads the same any day)."""

    fixed: datetime | None = None

    def now(self) -> datetime:
        return self.fixed or utcnow()


def build_router(context: Context) -> APIRouter:
    router = APIRouter(prefix="/tasks", tags=["quickadd"])
    clock = context.shared("quickadd", Clock)
    writes = tasks.TaskWrites.of(context)
    create = tasks.create_when()

    def set_rule() -> SetRule | None:
        found = context.collect("quickadd_recurrence")
        return found[0] if found else None

    @router.post(
        "/quick",
        name="create",
        summary="Create a task from one line of text (quick add)",
        status_code=status.HTTP_201_CREATED,
        response_model=QuickAddOut,
        responses={201: {"headers": LOCATION}},
        description="Reads the text (English) into a title, a due date and time, a recurrence "
        "rule, tags, a priority and a list, creates the task and answers it with how the text "
        "was read: the words each part came from and every assumption made. Text that cannot "
        "make a task (empty title, two dates, an unknown list, a recurrence without the "
        "recurring plugin) is a 422 naming why, and nothing is created.",
    )
    @requires_scope("tasks:write")
    async def quick_add(body: QuickAdd, request: Request, db: OwnedDB) -> Response:
        zone = ZoneInfo(body.timezone or "UTC")
        try:
            read = parsing.parse(body.text, clock.now(), zone)
        except parsing.Refused as refused:
            raise invalid(("body", "text"), str(refused)) from None
        if not read.title:
            raise invalid(
                ("body", "text"), "no title is left once the date, tags and the rest are read"
            )
        if len(read.title) > 200:
            raise invalid(("body", "text"), "the title left is over 200 characters")
        rule_setter = set_rule() if read.rrule else None
        if read.rrule and rule_setter is None:
            raise invalid(
                ("body", "text"),
                f"{read.words['rrule'][0]!r} is a recurrence, and the recurring plugin is not enabled",
            )
        values = {"title": read.title, "description": None, "completed": False,
                  "priority": read.priority or "none",
                  "due_at": read.due_at, "tags": read.tags, "list_id": body.list_id}  # fmt: skip
        assert db.owner is not None
        task = tasks.new_task(values, db.owner, utcnow())
        named = read.list_name is not None
        statement = queries.CREATE_IN_NAMED_LIST if named else create
        try:
            async with writes.unit(db, "create", atomic=rule_setter is not None) as unit:
                created = await unit.write(statement, **task, name=read.list_name)
                if created is None:  # no list of that name, or the kernel retried an insert
                    created = await unit.db.fetchrow(tasks.GET, id=task["id"])  # that made it
                if created is None:
                    raise invalid(
                        ("body", "text"), f"@{read.list_name}: you have no list of that name"
                    )
                if rule_setter is not None:
                    assert read.due_at is not None and read.rrule is not None
                    try:
                        await rule_setter(unit.db, task["id"], read.due_at, read.rrule, zone.key)
                    except ValueError as refused:
                        raise invalid(("body", "text"), f"the recurrence: {refused}") from None
        except asyncpg.ForeignKeyViolationError as error:
            if error.constraint_name == "tasks_list_id_fkey":
                raise invalid(("body", "list_id"), "Not one of your lists") from None
            raise
        if named and body.list_id is not None and body.list_id != created["list_id"]:
            read.assumed.append(f"@{read.list_name} named a list: it wins over list_id")
        explained = read.explanation() | {"list_id": created["list_id"]}
        headers = {
            "ETag": etag(created["id"], created["version"]),
            "Location": f"{request.url.path.removesuffix('/quick')}/{created['id']}",
        }
        return json_response({"task": dict(created), "parse": explained}, 201, headers)

    return router
