"""Task: T-193, T-195, T-223
Spec: specs/features/webhooks.md §Delivery, specs/api/rest-endpoints.md §Webhooks

The statements of the routes, the dispatcher and the delivery job, each built once. All go
through an owned executor: the kernel adds `user_id = :owner` (and stamps it on INSERT), so
none mentions the user.
"""

from sqlalchemy import (
    DateTime,
    Integer,
    Text,
    and_,
    any_,
    bindparam,
    case,
    column,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.orm import aliased

from app.core import free_slot, take_slot
from app.plugins.webhooks.models import EndpointSlots, WebhookDelivery, WebhookEndpoint

E = WebhookEndpoint
D = WebhookDelivery
ID = bindparam("id")
NOW = bindparam("now", type_=DateTime(timezone=True))

ENDPOINT_COLUMNS = (
    E.id,
    E.url,
    E.description,
    E.event_types,
    E.enabled,
    E.disabled_reason,
    E.disabled_at,
    E.created_at,
    E.updated_at,
    E.version,
)
DELIVERY_COLUMNS = (
    D.id,
    D.endpoint_id,
    D.event_type,
    D.payload,
    D.status,
    D.attempts,
    D.next_attempt_at,
    D.last_attempt_at,
    D.last_status_code,
    D.last_error,
    D.created_at,
    D.delivered_at,
)

LIST = select(*ENDPOINT_COLUMNS).order_by(E.created_at, E.id)
GET = select(*ENDPOINT_COLUMNS).where(E.id == ID)

# A registration takes a slot of the user's counter in the same statement (`take_slot`: the
# limit holds however many race); none free, nothing inserted.
_fields = ("id", "url", "description", "event_types", "secret", "created_at", "updated_at")
_TYPES = E.__table__.c  # type: ignore[attr-defined]
SLOTS = EndpointSlots.__table__  # type: ignore[attr-defined]
_slot = take_slot(SLOTS, [], select(), bindparam("max", type_=Integer), "slot")
CREATE = (
    insert(E)
    .from_select(
        list(_fields),
        select(*(bindparam(name, type_=_TYPES[name].type) for name in _fields)).select_from(_slot),
    )
    .returning(*ENDPOINT_COLUMNS)
)

ROTATE = (
    update(E)
    .where(E.id == ID)
    .values(secret=bindparam("secret"), updated_at=NOW, version=E.version + 1)
    .returning(E.id)
)
# A deleted endpoint gives its slot back in the same statement.
_gone = delete(E).where(E.id == ID).returning(E.id).cte("gone")
DELETE = select(_gone.c.id).add_cte(free_slot(SLOTS, exists(select(_gone.c.id))).cte("freed"))


def update_statement(fields: frozenset[str]) -> object:
    """Set `fields` (bind parameters of the same names); `enabled` also sets or clears the
    reason."""
    values: dict[str, object] = {
        name: bindparam(name, type_=_TYPES[name].type) for name in sorted(fields)
    }
    if "enabled" in fields:
        enabled = bindparam("enabled", type_=_TYPES["enabled"].type)
        values["disabled_reason"] = case(
            (enabled, None),
            (E.enabled, bindparam("reason", type_=Text)),
            else_=E.disabled_reason,
        )
        values["disabled_at"] = case((enabled, None), (E.enabled, NOW), else_=E.disabled_at)
    return (
        update(E)
        .where(E.id == ID)
        .values(values | {"updated_at": NOW, "version": E.version + 1})
        .returning(*ENDPOINT_COLUMNS)
    )


DELIVERIES = (
    select(*DELIVERY_COLUMNS)
    .where(D.endpoint_id == ID)
    .order_by(D.created_at.desc(), D.id.desc())
    .limit(bindparam("limit", type_=Integer))
)
EXISTS = select(E.id).where(E.id == ID)

# A manual redelivery: due now. A finished delivery (succeeded or failed) gets one attempt and
# no schedule; a pending one only comes forward. Only while its endpoint is enabled.
REDELIVER = (
    update(D)
    .where(
        D.id == bindparam("delivery_id"),
        D.endpoint_id == ID,
        exists(select(E.id).where(E.id == D.endpoint_id, E.enabled)),
    )
    .values(
        status="pending",
        next_attempt_at=NOW,
        auto_retry=and_(D.status == "pending", D.auto_retry),
    )
    .returning(*DELIVERY_COLUMNS)
)
DELIVERY = select(D.id).where(D.id == bindparam("delivery_id"), D.endpoint_id == ID)

# The dispatcher: one statement per user in a batch of changes. Each event (a JSON array of
# `{event_type, payload}`) becomes a delivery to every enabled endpoint of the user that
# subscribes to it; the message id is made here, like `new_message_id()` makes it.
_events = (
    func.jsonb_to_recordset(bindparam("events", type_=JSONB))
    .table_valued(column("event_type", Text), column("payload", JSONB))
    .render_derived(name="event", with_types=True)
)
# Which of a batch's users have an enabled endpoint: most have none, and their changes cost
# nothing more. Across users on purpose (plain SQL through the unscoped transaction, the
# kernel's escape hatch); each user's deliveries are then written as that user (DISPATCH).
WITH_ENDPOINTS = text(
    "SELECT DISTINCT user_id FROM webhook_endpoints WHERE enabled AND user_id = ANY(:users)"
)
# How many of the user's deliveries wait for their first attempt (seen before the statement's
# own rows): a job's rank among its user's, which orders the queue round-robin by user.
_waiting = aliased(D, name="waiting")
WAITING = (
    select(func.count())
    .select_from(_waiting)
    .where(_waiting.status == "pending", _waiting.attempts == 0)
    .scalar_subquery()
    .label("waiting")
)
DISPATCH = (
    insert(D)
    .from_select(
        ["id", "endpoint_id", "event_type", "payload", "next_attempt_at", "created_at"],
        select(
            literal("msg_") + func.replace(func.gen_random_uuid().cast(Text), "-", ""),
            E.id,
            _events.c.event_type,
            _events.c.payload,
            NOW,
            NOW,
        )
        .select_from(E)
        .join(
            _events,
            or_(
                literal("*", Text) == any_(E.event_types),
                _events.c.event_type == any_(E.event_types),
            ),
        )
        .where(E.enabled == true()),
    )
    .returning(D.id, WAITING)
)

# The delivery job. Claim the attempt: the delivery is pending, and either this is the attempt
# the job was deferred for and nobody is making it, or this very job claimed it before (it runs
# again after its worker died). Returns what the request needs, with the endpoint's URL and
# secret while it is enabled.
JOB = bindparam("job", type_=D.__table__.c.job_id.type)  # type: ignore[attr-defined]
CLAIM = (
    update(D)
    .where(
        D.id == ID,
        D.status == "pending",
        or_(
            and_(D.attempts == bindparam("attempt", type_=Integer), D.job_id.is_(None)),
            D.job_id == JOB,
        ),
    )
    .values(
        attempts=case((D.job_id == JOB, D.attempts), else_=D.attempts + 1),
        job_id=JOB,
        last_attempt_at=NOW,
        next_attempt_at=None,
    )
    .returning(
        D.attempts,
        D.payload,
        D.auto_retry,
        D.endpoint_id,
        select(E.url).where(E.id == D.endpoint_id, E.enabled).scalar_subquery().label("url"),
        select(E.secret).where(E.id == D.endpoint_id, E.enabled).scalar_subquery().label("secret"),
    )
)
_this_attempt = and_(D.id == ID, D.job_id == JOB)
SUCCEEDED = (
    update(D)
    .where(_this_attempt)
    .values(
        status="succeeded",
        delivered_at=NOW,
        last_status_code=bindparam("code", type_=Integer),
        last_error=None,
        job_id=None,
    )
    .returning(D.id)
)
RETRY = (
    update(D)
    .where(_this_attempt)
    .values(
        next_attempt_at=bindparam("next_at", type_=DateTime(timezone=True)),
        last_status_code=bindparam("code", type_=Integer),
        last_error=bindparam("error", type_=Text),
        job_id=None,
    )
    .returning(D.id, WAITING)
)
FAILED = (
    update(D)
    .where(_this_attempt)
    .values(
        status="failed",
        last_status_code=bindparam("code", type_=Integer),
        last_error=bindparam("error", type_=Text),
        job_id=None,
    )
    .returning(D.id)
)
DISABLE = (
    update(E)
    .where(E.id == bindparam("endpoint_id"), E.enabled)
    .values(
        enabled=False,
        disabled_reason=bindparam("reason", type_=Text),
        disabled_at=NOW,
        updated_at=NOW,
        version=E.version + 1,
    )
    .returning(E.id)
)
