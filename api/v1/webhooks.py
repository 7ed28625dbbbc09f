"""Webhook endpoints (Organization › Webhooks) and their delivery logs, through webhooks.services
as the portal's pages do. The signing secret is in the answer to the create and the rotate
operations only."""
from datetime import datetime
from typing import Literal

from django.http import HttpResponse
from ninja import Field, Path, Query, Router, Schema, Status

from api.v1 import auth
from api.v1.idempotency import idempotent
from api.v1.openapi import problems_of
from api.v1.paging import page_json
from api.v1.schemas import MAX_CURSOR, MAX_ID, TEXT, Input, Page
from audit.events import Event
from partnercenter.pagination import KeysetPaginator
from webhooks import services
from webhooks.fanout import event_types
from webhooks.selectors import deliveries_of, delivery_for_member, endpoint_for, endpoints_of

router = Router(tags=["webhooks"])
Id = Path(..., ge=1, le=MAX_ID)
MANAGE = "webhooks.manage_webhooks"
# The characters of a URI (RFC 3986); a host name in Unicode is written in its IDNA form.
URL = r"^https?://[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]{1,490}$"
EventType = Literal[tuple(Event.values)]


class EndpointIn(Input):
    url: str = Field(max_length=500, pattern=URL, description="HTTPS (HTTP only where the deployment allows it).")
    description: str = Field("", max_length=200, pattern=TEXT)
    all_events: bool = Field(True, description="Every event, including types added later; false: only `events`.")
    events: list[EventType] = Field([], max_length=200)


class EndpointPatch(Input):
    url: str | None = Field(None, max_length=500, pattern=URL)
    description: str | None = Field(None, max_length=200, pattern=TEXT)
    all_events: bool | None = None
    events: list[EventType] | None = Field(None, max_length=200)


class EndpointOut(Schema):
    id: int
    url: str
    description: str
    all_events: bool
    events: list[str]
    is_active: bool
    disabled_reason: str
    failing_since: datetime | None
    created_at: datetime
    secret_rotated_at: datetime | None


class EndpointWithSecretOut(EndpointOut):
    secret: str = Field(description="The signing secret (whsec_…): shown in this answer only.")


class DeliveryOut(Schema):
    id: int
    endpoint_id: int
    event_id: str = Field(description="The webhook-id header: the same on every attempt and redelivery.")
    event: str
    status: Literal["queued", "sending", "delivered", "failed"]
    attempts: int
    created_at: datetime
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    next_attempt_at: datetime | None
    status_code: int | None
    latency_ms: int | None
    last_error: str


class DeliveryPage(Page):
    results: list[DeliveryOut]


class DeliveryFilters(Schema):
    cursor: str = Field("", max_length=MAX_CURSOR)
    limit: int = Field(50, ge=1, le=100)


class EventTypeOut(Schema):
    type: str
    label: str


def endpoint_json(endpoint) -> dict:
    return {name: getattr(endpoint, name) for name in (
        "id", "url", "description", "all_events", "events", "is_active", "disabled_reason", "failing_since",
        "created_at", "secret_rotated_at")}


def delivery_json(delivery) -> dict:
    return {
        **{name: getattr(delivery, name) for name in (
            "id", "endpoint_id", "event_id", "event", "status", "attempts", "created_at", "last_attempt_at",
            "delivered_at", "status_code", "latency_ms", "last_error")},
        "next_attempt_at": delivery.due_at if delivery.status == "queued" else None,
    }


def _endpoint_post(path: str, *, operation_id: str, summary: str, refusals: list[str], response=EndpointOut):
    """The route of a button on one endpoint: an idempotent POST, a 404 for another partner's
    endpoint and the 409 ``refusals`` of its service (and ``gone``: deleted meanwhile)."""
    return router.post(path, response=response, auth=auth.partner(MANAGE), operation_id=operation_id,
                       summary=summary,
                       openapi_extra=problems_of(idempotent=True, s404=["not_found"], s409=[*refusals, "gone"]))


def _on_endpoint(request, endpoint_id: int, service):
    """``service`` on the member's endpoint (another partner's is a 404); a refusal is a 409."""
    member = request.auth.member
    return service(actor=member, endpoint=endpoint_for(member, endpoint_id))


@router.get("/webhook-event-types", response=list[EventTypeOut], auth=auth.partner(MANAGE),
            operation_id="listWebhookEventTypes", summary="The event types an endpoint may ask for")
def list_event_types(request):
    return [{"type": value, "label": label} for value, label in event_types()]


@router.get("/webhooks", response=list[EndpointOut], auth=auth.partner(MANAGE), operation_id="listWebhookEndpoints",
            summary="The organization's webhook endpoints")
def list_endpoints(request):
    return [endpoint_json(e) for e in endpoints_of(request.auth.member).order_by("-id")]


@router.post("/webhooks", response={201: EndpointWithSecretOut}, auth=auth.partner(MANAGE),
             operation_id="createWebhookEndpoint", summary="Register a webhook endpoint",
             openapi_extra=problems_of(s409=["endpoint_limit", "unsafe_url", "unknown_events", "no_events"]),
             description="The answer carries the signing secret, which is never shown again. Not replayable "
                         "by Idempotency-Key: its answer holds a secret, which is not stored twice.")
def create_endpoint(request, data: EndpointIn):
    endpoint, secret = services.endpoint_create(
        actor=request.auth.member, url=data.url, description=data.description, all_events=data.all_events,
        events=list(data.events))
    return Status(201, {**endpoint_json(endpoint), "secret": secret})


@router.get("/webhooks/{endpoint_id}", response=EndpointOut, auth=auth.partner(MANAGE),
            operation_id="getWebhookEndpoint", summary="Read a webhook endpoint",
            openapi_extra=problems_of(s404=["not_found"]))
def get_endpoint(request, endpoint_id: int = Id):
    return endpoint_json(endpoint_for(request.auth.member, endpoint_id))


@router.patch("/webhooks/{endpoint_id}", response=EndpointOut, auth=auth.partner(MANAGE),
              operation_id="updateWebhookEndpoint", summary="Change a webhook endpoint's URL, description or events",
              openapi_extra=problems_of(s404=["not_found"], s409=["unsafe_url", "unknown_events", "no_events", "gone"]))
def update_endpoint(request, data: EndpointPatch, endpoint_id: int = Id):
    endpoint = endpoint_for(request.auth.member, endpoint_id)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    endpoint = services.endpoint_update(
        actor=request.auth.member, endpoint=endpoint, url=changes.get("url", endpoint.url),
        description=changes.get("description", endpoint.description),
        all_events=changes.get("all_events", endpoint.all_events), events=list(changes.get("events", endpoint.events)))
    return endpoint_json(endpoint)


@router.delete("/webhooks/{endpoint_id}", response={204: None}, auth=auth.partner(MANAGE),
               operation_id="deleteWebhookEndpoint", summary="Delete a webhook endpoint and its delivery log",
               openapi_extra=problems_of(s404=["not_found"], s409=["gone"]))
def delete_endpoint(request, endpoint_id: int = Id):
    _on_endpoint(request, endpoint_id, services.endpoint_delete)
    return HttpResponse(status=204)


@_endpoint_post("/webhooks/{endpoint_id}/disable", operation_id="disableWebhookEndpoint",
                summary="Stop sending events to a webhook endpoint", refusals=["already_disabled"])
@idempotent
def disable_endpoint(request, endpoint_id: int = Id):
    return endpoint_json(_on_endpoint(request, endpoint_id, services.endpoint_disable))


@_endpoint_post("/webhooks/{endpoint_id}/enable", operation_id="enableWebhookEndpoint",
                summary="Send events to a disabled webhook endpoint again", refusals=["already_active"])
@idempotent
def enable_endpoint(request, endpoint_id: int = Id):
    return endpoint_json(_on_endpoint(request, endpoint_id, services.endpoint_enable))


@router.post("/webhooks/{endpoint_id}/rotate-secret", response=EndpointWithSecretOut, auth=auth.partner(MANAGE),
             operation_id="rotateWebhookSecret", summary="Give a webhook endpoint a new signing secret",
             description="The answer carries the new secret, which is never shown again; it signs every "
                         "attempt from now on. Not replayable by Idempotency-Key (its answer holds a secret).",
             openapi_extra=problems_of(s404=["not_found"], s409=["gone"]))
def rotate_secret(request, endpoint_id: int = Id):
    endpoint, secret = _on_endpoint(request, endpoint_id, services.endpoint_rotate_secret)
    return {**endpoint_json(endpoint), "secret": secret}


@_endpoint_post("/webhooks/{endpoint_id}/test", response={202: DeliveryOut}, operation_id="sendWebhookTestEvent",
                summary="Send a webhook.test event to the endpoint", refusals=["disabled"])
@idempotent
def send_test(request, endpoint_id: int = Id):
    return Status(202, delivery_json(_on_endpoint(request, endpoint_id, services.endpoint_send_test)))


@router.get("/webhooks/{endpoint_id}/deliveries", response=DeliveryPage, auth=auth.partner(MANAGE),
            operation_id="listWebhookDeliveries", summary="A webhook endpoint's delivery log, newest first",
            openapi_extra=problems_of(s404=["not_found", "invalid_cursor"]))
def list_deliveries(request, filters: Query[DeliveryFilters], endpoint_id: int = Id):
    endpoint = endpoint_for(request.auth.member, endpoint_id)
    paginator = KeysetPaginator(deliveries_of(endpoint), ["-id"], page_size=filters.limit,
                                scope=f"api.webhook-deliveries:{endpoint.partner_id}:{endpoint.pk}")
    return page_json(paginator, filters.cursor, delivery_json)


@router.post("/webhook-deliveries/{delivery_id}/redeliver", response={202: DeliveryOut}, auth=auth.partner(MANAGE),
             operation_id="redeliverWebhook", summary="Send a delivered or failed event again (same webhook-id)",
             openapi_extra=problems_of(idempotent=True, s404=["not_found"], s409=["disabled", "pending"]))
@idempotent
def redeliver(request, delivery_id: int = Id):
    delivery = delivery_for_member(request.auth.member, delivery_id)
    return Status(202, delivery_json(services.delivery_redeliver(actor=request.auth.member, delivery=delivery)))
