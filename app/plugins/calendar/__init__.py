"""Task: T-430, T-434
Spec: specs/features/calendar.md

The calendar plugin: iCalendar subscriptions of a user's due tasks. `/api/v1/calendar/feeds`
makes, lists and revokes them; each feed's secret URL, `/api/v1/calendar/{token}.ics`, answers
its tasks as VTODO and VEVENT components in one statement. A plugin that knows how a task
recurs (recurring) answers `calendar_recurrences`, and the task is one series with its RRULE.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select
from sqlmodel import SQLModel

from app.core import Context, hookimpl
from app.plugins.calendar import hookspecs
from app.plugins.calendar.models import CalendarFeed, FeedSlots
from app.plugins.calendar.routes import build_router
from app.plugins.calendar.settings import CalendarSettings

NAME = "calendar"
__all__ = ["hookspecs"]


@hookimpl
def requires() -> Sequence[str]:
    # A feed shows tasks, and a feed of one list checks the list is the caller's to read.
    return ["tasks"]


@hookimpl
def settings_model() -> type[BaseModel]:
    return CalendarSettings


@hookimpl
def models() -> Sequence[type[SQLModel]]:
    return [CalendarFeed, FeedSlots]


@hookimpl
def routers(context: Context) -> Sequence[APIRouter]:
    config = context.settings_for(NAME, CalendarSettings)
    return [build_router(config, context.collect("calendar_recurrences"))]


@hookimpl
def account_export(context: Context) -> Mapping[str, tuple[Any, Any]]:
    # The data export (auth's hook): the user's feeds, without their token digests.
    feeds = CalendarFeed.__table__  # type: ignore[attr-defined]
    shown = [column for column in feeds.c if column.name != "token_hash"]
    return {"calendar_feeds": (select(*shown), feeds.c.id)}
