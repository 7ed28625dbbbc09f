"""Every operation record is an event: ``fan_out`` (called by ``audit.services.record``, the one
writer of records) gives each of the partner's active endpoints that wants the event a delivery
row and its task, in the record's own transaction.

Event types are the record events of ``audit.events.Event`` under their own names
(``association.created``, ``request.submitted``…), so an event a later issue adds to the
catalogue is delivered with no change here. A transaction asks for one ``deliver_webhooks`` task
however many records it writes (``request_sending``): that task sends every due delivery, in
batches (webhooks.delivery.deliver_due). The body is the Standard Webhooks shape
``{"id", "type", "timestamp", "data"}``; ``data`` is the record as API v1 represents it
(``RecordDetailOut``: record id, event, time, customer, association, request, before, after)."""
import json
import uuid

from django.db import transaction

from audit.events import Event
from notifications.queue import enqueue_with_change, in_database
from webhooks.models import Delivery, Endpoint

TEST_EVENT = "webhook.test"
RECORD_FIELDS = (
    "id", "created_at", "event", "category", "customer_id", "actor_kind", "actor_name", "reason", "partner_id",
    "association_id", "association_request_id", "request_id", "before", "after",
)


def event_types() -> list[tuple[str, str]]:
    """(type, label) of every event an endpoint may ask for: the record event catalogue."""
    return [(value, str(label)) for value, label in Event.choices]


def new_event_id() -> str:
    return "evt_" + uuid.uuid4().hex


def body_of(*, event_id: str, event: str, timestamp, data: dict) -> str:
    """The exact text sent (and signed) on every attempt."""
    from ninja.responses import NinjaJSONEncoder

    payload = {"id": event_id, "type": event, "timestamp": timestamp, "data": data}
    # API v1's own encoder (api.v1.api.Renderer), so values read as they do in the API.
    return json.dumps(payload, cls=NinjaJSONEncoder, ensure_ascii=False, separators=(",", ":"))


def record_data(record) -> dict:
    from api.v1.schemas import RecordDetailOut

    return RecordDetailOut.model_validate({name: getattr(record, name) for name in RECORD_FIELDS}).model_dump()


def fan_out(record) -> list[Delivery]:
    if record.partner_id is None:
        return []
    endpoints = [
        endpoint for endpoint in Endpoint.objects.filter(partner_id=record.partner_id, is_active=True).only(
            "pk", "all_events", "events")
        if endpoint.wants(record.event)
    ]
    if not endpoints:
        return []
    event_id = new_event_id()
    body = body_of(event_id=event_id, event=record.event, timestamp=record.created_at, data=record_data(record))
    task_id = request_sending()
    return Delivery.objects.bulk_create([
        Delivery(endpoint=endpoint, event_id=event_id, event=record.event, record=record, body=body,
                 created_at=record.created_at, due_at=record.created_at, retry_from=record.created_at,
                 task_id=task_id)
        for endpoint in endpoints
    ])


class _SendingRequested:
    """The ``deliver_webhooks`` task of one transaction (or savepoint), and its marker among the
    connection's commit callbacks. Django drops a callback when the savepoint it was registered
    in rolls back, which also removes the task row written there: so a marker still in the list
    and not yet run means this transaction already holds its task."""

    def __init__(self):
        from notifications.tasks import deliver_webhooks

        self.ran = False
        self.task_id = ""

        def remember(result):
            if in_database(deliver_webhooks):
                self.task_id = str(result.id)

        enqueue_with_change(deliver_webhooks, on_enqueued=remember)

    def __call__(self):
        self.ran = True


def request_sending() -> str:
    """Have the due deliveries sent: enqueue one ``deliver_webhooks`` task with the current
    transaction, unless this transaction (at this savepoint) already did. Returns the task's id
    on the database backend (kept on the rows for the sweep), else ``""``."""
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        here = set(connection.savepoint_ids)
        for savepoints, callback, _robust in reversed(connection.run_on_commit):
            if isinstance(callback, _SendingRequested) and not callback.ran and savepoints == here:
                return callback.task_id
    requested = _SendingRequested()
    if connection.in_atomic_block:
        transaction.on_commit(requested)
    return requested.task_id


def trigger(delivery: Delivery, run_after=None) -> None:
    """One task for one named delivery (a retry, a redelivery, a test event, the sweep's)."""
    from notifications.tasks import deliver_webhook

    def remember(result):
        if in_database(deliver_webhook):
            Delivery.objects.filter(pk=delivery.pk).update(task_id=str(result.id))

    enqueue_with_change(deliver_webhook, delivery.pk, run_after=run_after, on_enqueued=remember)
