"""Task: T-194, T-223, T-286, T-345
Spec: specs/features/webhooks.md §Events; specs/features/sharing.md §The feed

From the change log to deliveries: the event catalog, how a change is named (`task.completed`
versus `task.updated`), the payload, and the after-commit consumer that turns each batch of
changes into deliveries and their first jobs, in the batch's own transaction (so they exist
exactly when the consumer's cursor moves past the changes).

A change to a shared list is in the log once for each person who sees it (sharing.md §The
feed), under that person's id: each member's endpoints get it, and endpoints stay personal.
"""

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson

from app.core import Transaction, utcnow
from app.plugins.changes.api import AfterCommit, Change
from app.plugins.jobs.api import JobKind
from app.plugins.webhooks import queries
from app.plugins.webhooks.delivery import priority

CONSUMER = "webhooks"
ENTITIES = frozenset({"tasks", "lists", "reminders_inbox"})
# A list's events: `list.created`, `list.updated`, `list.deleted` (its tasks' are their own).
LIST_EVENTS = {"create": "list.created", "update": "list.updated", "delete": "list.deleted"}
Serializers = Mapping[str, Callable[[Mapping[str, Any]], Mapping[str, Any]]]


def _instant(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def event_type(change: Change) -> str | None:
    """The catalog's name for `change`, or None when it is no event.

    A task update is `task.completed` when it completed the task: the row is completed and its
    `completed_at` is its `updated_at` (the tasks plugin sets both to the same instant in the
    write that completes, and never again while it stays completed)."""
    if change.entity == "tasks":
        if change.op == "create":
            return "task.created"
        if change.op == "delete":
            return "task.deleted"
        data = change.data or {}
        completed_at = _instant(data.get("completed_at"))
        if (
            data.get("completed")
            and completed_at
            and completed_at == _instant(data.get("updated_at"))
        ):
            return "task.completed"
        return "task.updated"
    if change.entity == "lists":
        # The default list is every user's from the start (GET /lists shows it before it is
        # stored): storing it, on first need, is no event.
        if change.op == "create" and (change.data or {}).get("is_default"):
            return None
        return LIST_EVENTS[change.op]
    if change.entity == "reminders_inbox" and change.op == "create":
        return "reminder.fired"
    return None


def _row(change: Change, serializers: Serializers) -> dict[str, Any] | None:
    """The changed row as its plugin's API shows it (its change serializer), else as stored
    without the owner."""
    if change.data is None:
        return None
    serialize = serializers.get(change.entity)
    if serialize is not None:
        row = dict(serialize(change.data))
    else:
        row = {key: value for key, value in change.data.items() if key != "user_id"}
    # JSON values (datetimes as RFC 3339 with Z), as the body will carry them.
    loaded: dict[str, Any] = orjson.loads(orjson.dumps(row, option=orjson.OPT_UTC_Z))
    return loaded


def actor(change: Change) -> str | None:
    """Who made the change: a task's `updated_by` (its creator on a create), else the row's
    owner (only a list's owner writes it; a reminder is its setter's). A delete keeps no row
    and the trigger does not know the statement's caller: None."""
    data = change.data
    if data is None:
        return None
    if change.entity == "tasks":
        found = data.get("updated_by") or data.get("created_by")
        return found if isinstance(found, str) else None
    owner = data.get("user_id")
    return owner if isinstance(owner, str) else None


def payload(change: Change, kind: str, at: datetime, serializers: Serializers) -> dict[str, Any]:
    """The Standard Webhooks body: `{type, timestamp, data}`; `data` holds the ids, who acted
    (`actor_id`) and the row."""
    data: dict[str, Any] = {"id": change.id, "actor_id": actor(change)}
    row = _row(change, serializers)
    if change.entity == "tasks":
        data["task"] = row
    elif change.entity == "lists":
        data["list"] = row
    else:
        if row is not None and row.get("task_id") is not None:
            data["task_id"] = row["task_id"]
        data["reminder"] = row
    timestamp = orjson.dumps(at, option=orjson.OPT_UTC_Z).decode().strip('"')
    return {"type": kind, "timestamp": timestamp, "data": data}


def consumer(deliver: JobKind, serializers: Serializers) -> AfterCommit:
    """The `webhooks` after-commit consumer: one SELECT of the batch's users that have an
    enabled endpoint, then for each of them one INSERT … SELECT (the deliveries to that user's
    subscribed endpoints, and how many the user had waiting), and one statement queueing a job
    per delivery, ranked round-robin by user (webhooks.md §Fairness), all in the batch's
    transaction."""

    async def dispatch(transaction: Transaction, changes: Sequence[Change]) -> None:
        now = utcnow()
        events: dict[str, list[dict[str, Any]]] = {}
        for change in changes:
            kind = event_type(change)
            if kind is not None:
                body = payload(change, kind, now, serializers)
                events.setdefault(change.user_id, []).append({"event_type": kind, "payload": body})
        if not events:
            return
        subscribed = await transaction.fetch(queries.WITH_ENDPOINTS, users=sorted(events))
        jobs: list[dict[str, Any]] = []
        ranks: list[int] = []
        for user_id in sorted(row["user_id"] for row in subscribed):
            user_events = events[user_id]
            rows = await transaction.owned(user_id).fetch(
                queries.DISPATCH, events=user_events, now=now
            )
            for rank, row in enumerate(rows, start=rows[0]["waiting"] if rows else 0):
                jobs.append({"user_id": user_id, "delivery_id": row["id"], "attempt": 0})
                ranks.append(rank)
        # Every first attempt of the batch in one statement (a 100-operation batch to 20
        # endpoints is 2,000 jobs), each ranked among its user's waiting deliveries.
        await deliver.defer_many(
            transaction,
            jobs,
            dedupe_keys=[f"webhooks:{job['delivery_id']}:0" for job in jobs],
            priorities=[priority(rank) for rank in ranks],
        )

    return AfterCommit(CONSUMER, ENTITIES, dispatch)
