"""Writing the operation log. Every service calls ``record`` inside its own transaction, so a
rolled-back action leaves no record and a committed one always has its record."""
from typing import Any

from django.db import connection

from audit.events import ActorKind, Event
from audit.models import OperationRecord
from partnercenter.middleware import current_ip, current_request_id
from webhooks.fanout import fan_out

_EVENT_CATEGORY = {
    "association": "association", "customer": "association", "request": "association",
    "invitation": "association", "project": "association",
    "funds": "funds", "voucher": "voucher",
    "partner": "organization", "member": "organization", "user": "organization", "profile": "organization",
    "role": "organization", "organization": "organization",
    "api": "api", "webhook": "api",
}


def category_of(event: str) -> str:
    return _EVENT_CATEGORY[event.split(".", 1)[0]]


def actor_kind_of(actor) -> str:
    if actor is None:
        return ActorKind.SYSTEM
    if actor.is_staff and not actor.is_member:
        return ActorKind.OPERATOR
    if actor.is_customer:
        return ActorKind.CUSTOMER
    return ActorKind.MEMBER


def jsonable(value):
    """A value as it is stored in a record's before/after: objects by id, the rest as text."""
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def record(
    *,
    event: str,
    actor=None,
    partner=None,
    customer=None,
    association=None,
    association_request=None,
    reason: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> OperationRecord:
    """Append one operation record to the current transaction. ``actor`` None means the
    system (for example the job that expires requests)."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit.record must be called inside the action's transaction.")
    Event(event)  # an unknown event is a programming error
    operation_record = OperationRecord.objects.create(
        event=event,
        category=category_of(event),
        actor=actor,
        actor_kind=actor_kind_of(actor),
        actor_name=(str(actor) if actor is not None else "system")[:150],
        partner=partner,
        customer=customer,
        association=association,
        association_request=association_request,
        reason=reason,
        before=before or {},
        after=after or {},
        ip=current_ip(),
        request_id=current_request_id(),
    )
    # Every record is an event: the partner's endpoints that want it get a delivery row and
    # its task in this same transaction (a rolled-back change sends nothing).
    fan_out(operation_record)
    return operation_record
