"""Task: T-196, T-279
Spec: specs/api/rest-endpoints.md §Webhooks

The `/webhooks` endpoints. Every statement goes through the caller's owned executor, so another
user's endpoint or delivery is simply not found (404). The secret is answered by registration
and rotation only, both `Cache-Control: no-store`; no read statement selects it.
"""

from typing import Annotated

import httpx
from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, status

from app.core import (
    DB,
    LOCATION,
    CurrentUser,
    OwnedDB,
    id_or_404,
    invalid,
    json_response,
    new_id,
    no_store,
    utcnow,
)
from app.plugins.webhooks import queries
from app.plugins.webhooks.delivery import Deliverer
from app.plugins.webhooks.outbound import DestinationRefused, OutboundClient, OutboundError
from app.plugins.webhooks.schemas import (
    DeliveryOut,
    WebhookCreate,
    WebhookCreated,
    WebhookOut,
    WebhookSecret,
    WebhookUpdate,
)
from app.plugins.webhooks.settings import WebhooksSettings
from app.plugins.webhooks.signatures import new_secret

EXAMPLE_ID = "9b1f2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d"
WebhookId = Annotated[
    str,
    Path(
        description="The endpoint's id; one that names no endpoint of yours is a 404",
        examples=[EXAMPLE_ID],
    ),
]
DeliveryId = Annotated[
    str,
    Path(
        description="The delivery's (message) id; one that names no delivery of this endpoint "
        "is a 404",
        examples=["msg_2b7c0a5f3e8d4c1b9a6f0e2d7c4b1a39"],
    ),
]
NOT_FOUND = {404: {"description": "No such endpoint of yours"}}
DISABLED_BY_OWNER = "disabled by its owner"


def _not_found(what: str = "Webhook endpoint") -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"{what} not found")


async def check_url(url: str, client: OutboundClient) -> None:
    """A 422 naming the problem unless `url` may receive deliveries now."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise invalid(("body", "url"), f"not a valid URL ({exc})") from None
    if parsed.scheme == "http" and not client.allows(parsed.host):
        message = "use https:// (http:// only for hosts the operator allows)"
        raise invalid(("body", "url"), message)
    if parsed.scheme not in {"http", "https"}:
        raise invalid(("body", "url"), "use an https:// URL")
    if parsed.userinfo:
        raise invalid(("body", "url"), "credentials in the URL are not allowed")
    try:
        await client.check(url)
    except DestinationRefused as exc:
        raise invalid(("body", "url"), f"refused destination: {exc}") from None
    except OutboundError as exc:
        raise invalid(("body", "url"), str(exc)) from None


def build_router(deliverer: Deliverer, config: WebhooksSettings) -> APIRouter:
    router = APIRouter(prefix="/webhooks", tags=["webhooks"])

    @router.get(
        "",
        name="list",
        summary="List your webhook endpoints",
        response_model=list[WebhookOut],
        description="Answers your webhook endpoints, without their secrets.",
    )
    async def list_webhooks(db: OwnedDB) -> Response:
        return json_response(
            [WebhookOut.model_validate(dict(row)) for row in await db.fetch(queries.LIST)]
        )

    @router.post(
        "",
        name="create",
        summary="Register a webhook endpoint (its secret is shown only here)",
        status_code=status.HTTP_201_CREATED,
        response_model=WebhookCreated,
        responses={
            201: {"headers": LOCATION},
            409: {"description": "You have as many endpoints as allowed"},
        },
        description="Registers an `https://` URL that receives your events (those in "
        "`event_types`, `*` for all) as signed Standard Webhooks, retried with backoff. The "
        "answer holds the signing secret, shown only this once.",
    )
    @no_store
    async def create_webhook(body: WebhookCreate, request: Request, db: OwnedDB) -> Response:
        await check_url(body.url, deliverer.client)
        now = utcnow()
        secret = new_secret()
        row = await db.fetchrow(
            queries.CREATE,
            id=new_id(),
            url=body.url,
            description=body.description,
            event_types=body.event_types,
            secret=secret,
            created_at=now,
            updated_at=now,
            max=config.max_endpoints,
        )
        if row is None:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                f"You have {config.max_endpoints} webhook endpoints, the most allowed: delete one",
            )
        return json_response(
            WebhookCreated.model_validate({**dict(row), "secret": secret}),
            status.HTTP_201_CREATED,
            {"Location": f"{request.url.path}/{row['id']}"},
        )

    @router.get(
        "/{webhook_id}",
        name="get",
        summary="Get a webhook endpoint",
        response_model=WebhookOut,
        responses=NOT_FOUND,
        description="Answers one of your webhook endpoints: its URL, its events, and whether it "
        "is enabled (or why it was disabled).",
    )
    async def get_webhook(webhook_id: WebhookId, db: OwnedDB) -> Response:
        row = await db.fetchrow(queries.GET, id=id_or_404(webhook_id, "Webhook endpoint"))
        if row is None:
            raise _not_found()
        return json_response(WebhookOut.model_validate(dict(row)))

    @router.patch(
        "/{webhook_id}",
        name="update",
        summary="Change a webhook endpoint, or enable or disable it",
        response_model=WebhookOut,
        responses=NOT_FOUND,
        description="Changes the fields sent; `enabled: true` turns back on an endpoint that was "
        "disabled after its deliveries kept failing.",
    )
    async def update_webhook(webhook_id: WebhookId, body: WebhookUpdate, db: OwnedDB) -> Response:
        webhook_id = id_or_404(webhook_id, "Webhook endpoint")
        changes = body.model_dump(exclude_unset=True)
        for name in ("url", "event_types", "enabled"):
            if name in changes and changes[name] is None:
                raise invalid(("body", name), "must not be null")
        if not changes:
            return await get_webhook(webhook_id, db)
        if "url" in changes:
            await check_url(changes["url"], deliverer.client)
        extra = {"reason": DISABLED_BY_OWNER} if "enabled" in changes else {}
        row = await db.fetchrow(
            queries.update_statement(frozenset(changes)),  # type: ignore[arg-type]
            id=webhook_id,
            now=utcnow(),
            **changes,
            **extra,
        )
        if row is None:
            raise _not_found()
        return json_response(WebhookOut.model_validate(dict(row)))

    @router.delete(
        "/{webhook_id}",
        name="delete",
        summary="Delete a webhook endpoint and its delivery log",
        status_code=status.HTTP_204_NO_CONTENT,
        responses=NOT_FOUND,
        description="Deletes the endpoint and its delivery log; nothing more is sent to it.",
    )
    async def delete_webhook(webhook_id: WebhookId, db: OwnedDB) -> Response:
        if await db.fetchrow(queries.DELETE, id=id_or_404(webhook_id, "Webhook endpoint")) is None:
            raise _not_found()
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.post(
        "/{webhook_id}/rotate-secret",
        name="rotate_secret",
        summary="Replace an endpoint's signing secret (the new one is shown only here)",
        response_model=WebhookSecret,
        responses=NOT_FOUND,
        description="Replaces the endpoint's signing secret and answers the new one, shown only "
        "this once; deliveries are signed with it from then on.",
    )
    @no_store
    async def rotate_secret(webhook_id: WebhookId, db: OwnedDB) -> Response:
        secret = new_secret()
        row = await db.fetchrow(
            queries.ROTATE,
            id=id_or_404(webhook_id, "Webhook endpoint"),
            secret=secret,
            now=utcnow(),
        )
        if row is None:
            raise _not_found()
        return json_response(WebhookSecret(id=row["id"], secret=secret))

    @router.get(
        "/{webhook_id}/deliveries",
        name="deliveries",
        summary="An endpoint's delivery log, newest first",
        response_model=list[DeliveryOut],
        responses=NOT_FOUND,
        description="Answers the endpoint's latest deliveries, newest first: each event's status, "
        "attempts, and the last answer or error.",
    )
    async def list_deliveries(
        webhook_id: WebhookId,
        db: OwnedDB,
        limit: Annotated[
            int, Query(ge=1, le=config.max_page_size, description="How many, newest first")
        ] = 50,
    ) -> Response:
        webhook_id = id_or_404(webhook_id, "Webhook endpoint")
        rows = await db.fetch(queries.DELIVERIES, id=webhook_id, limit=limit)
        if not rows and await db.fetchrow(queries.EXISTS, id=webhook_id) is None:
            raise _not_found()
        return json_response([DeliveryOut.model_validate(dict(row)) for row in rows])

    @router.post(
        "/{webhook_id}/deliveries/{delivery_id}/redeliver",
        name="redeliver",
        summary="Send a delivery again now, with the same message id",
        status_code=status.HTTP_202_ACCEPTED,
        response_model=DeliveryOut,
        responses={
            404: {"description": "No such endpoint of yours, or no such delivery of it"},
            409: {"description": "The endpoint is disabled: enable it first"},
        },
        description="Queues the delivery to be sent again now, with the same message id so the "
        "receiver can tell a repeat, and answers it (202).",
    )
    async def redeliver(
        webhook_id: WebhookId, delivery_id: DeliveryId, user: CurrentUser, database: DB
    ) -> Response:
        webhook_id = id_or_404(webhook_id, "Webhook endpoint")
        async with database.transaction() as transaction:
            db = transaction.owned(user.id)
            row = await db.fetchrow(
                queries.REDELIVER, id=webhook_id, delivery_id=delivery_id, now=utcnow()
            )
            if row is None:
                if await db.fetchrow(queries.DELIVERY, id=webhook_id, delivery_id=delivery_id):
                    raise HTTPException(
                        status.HTTP_409_CONFLICT,
                        "The endpoint is disabled: enable it (PATCH enabled: true) first",
                    )
                raise _not_found("Delivery")
            await deliverer.task.defer(
                transaction,
                {"user_id": user.id, "delivery_id": delivery_id, "attempt": row["attempts"]},
                dedupe_key=f"webhooks:{delivery_id}:{row['attempts']}:now",
            )
        return json_response(DeliveryOut.model_validate(dict(row)), status.HTTP_202_ACCEPTED)

    return router
