"""Reads of the operation log, scoped to who is asking. Another partner's record is a 404; a
member limited to the customers they manage sees only those customers' records (R16); a
distributor sees its resellers' records on a separate, read-only tab (R14)."""
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from audit.events import Event
from audit.models import OperationRecord
from customers.selectors import narrowed_to_managers
from partnercenter.pagination import ListedRow

# Which member of the partner looks after a customer is the partner's internal business.
PARTNER_INTERNAL_EVENTS = [Event.CUSTOMER_MANAGER_ASSIGNED]


def records_visible_to(user, *, resellers: bool = False) -> QuerySet[OperationRecord]:
    """The records of the member's partner (``resellers``: those of the resellers under the
    member's distributor), narrowed for customer managers."""
    partner = user.partner
    if resellers:
        if not partner.is_distributor:
            return OperationRecord.objects.none()
        qs = OperationRecord.objects.filter(partner__distributor=partner)
    else:
        qs = OperationRecord.objects.filter(partner=partner)
    return narrowed_to_managers(qs, user)


def record_for_member(user, pk) -> OperationRecord:
    """One record the member may open, from either tab; 404 for anything else."""
    partner = user.partner
    condition = Q(partner=partner)
    if partner.is_distributor:
        condition |= Q(partner__distributor=partner)
    qs = narrowed_to_managers(OperationRecord.objects.filter(condition), user)
    return get_object_or_404(qs.select_related("partner", "customer"), pk=pk)


def records_of_customer(customer) -> QuerySet[OperationRecord]:
    """The customer's own log in the Account Center (R27): every record about the account,
    whichever partner it was with at the time."""
    return OperationRecord.objects.filter(customer=customer).exclude(event__in=PARTNER_INTERNAL_EVENTS)


def filter_records(
    qs: QuerySet[OperationRecord],
    *,
    event: str = "",
    category: str = "",
    customer: str = "",
    actor: str = "",
    actor_kind: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[OperationRecord]:
    """Apply the records page's validated filters. Dates are whole UTC days, both ends
    included."""
    if event:
        qs = qs.filter(event=event)
    if category:
        qs = qs.filter(category=category)
    if customer:
        # Account names are identifiers, so they match exactly (the customer page links here
        # with one); names are free text, so any part of one matches.
        qs = qs.filter(Q(customer__account_name__iexact=customer) | Q(customer__name__icontains=customer))
    if actor:
        qs = qs.filter(actor_name__icontains=actor)
    if actor_kind:
        qs = qs.filter(actor_kind=actor_kind)
    if date_from:
        qs = qs.filter(created_at__gte=_start_of(date_from))
    if date_to and date_to < date.max:
        qs = qs.filter(created_at__lt=_start_of(date_to + timedelta(days=1)))
    return qs


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


@dataclass(slots=True)
class ListedRecord(ListedRow):
    """One row of the records list: what ``record_row`` shows of a record, its customer and, on
    the resellers' tab, the reseller."""

    id: int
    created_at: datetime
    event: str
    category: str
    customer_id: int | None
    customer_name: str | None
    customer_account_name: str | None
    actor_kind: str
    actor_name: str
    reason: str
    partner_name: str


_LISTED = [
    "id", "created_at", "event", "category", "customer_id", "customer__name", "customer__account_name",
    "actor_kind", "actor_name", "reason",
]


def record_listing(qs: QuerySet[OperationRecord], *, resellers: bool) -> QuerySet:
    """``qs`` as the columns a row of the records list shows, for :func:`listed_record`: not
    the before/after snapshots, nor a model instance per record and customer, which cost a
    page of 50 rows more in the model layer than in the database (issue 9)."""
    return qs.values_list(*_LISTED, *(["partner__name"] if resellers else []))


def listed_record(values: tuple) -> ListedRecord:
    """A row of :func:`record_listing` as a :class:`ListedRecord`."""
    return ListedRecord(*values) if len(values) > len(_LISTED) else ListedRecord(*values, partner_name="")
