"""Scoped reads of association requests. A member sees the requests on their own partner's
associations (narrowed to a customer manager's customers); a customer sees its own."""
from dataclasses import dataclass
from datetime import datetime

from django.db.models import BooleanField, Case, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.shortcuts import get_object_or_404
from django.utils import timezone

from customers.models import Association, AssociationRequest, Customer
from customers.selectors import narrowed_to_managers
from partnercenter.pagination import ListedRow

Status = AssociationRequest.Status


def requests_for_member(user) -> QuerySet[AssociationRequest]:
    qs = AssociationRequest.objects.filter(association__partner=user.partner)
    return narrowed_to_managers(qs, user, "association__customer__manager_id")


@dataclass(slots=True)
class ListedRequest(ListedRow):
    """One row of the requests inbox and of ``GET /api/v1/requests``: what they show of a
    request, its customer and who submitted it (``requested_by``: the username, or None)."""

    id: int
    kind: str
    status: str
    target_type: str
    reason: str
    created_at: datetime
    deadline: datetime
    handled_at: datetime | None
    response_reason: str
    failure_codes: list
    customer_id: int
    customer_account_name: str
    customer_name: str
    requested_by: str | None


_LISTED = [
    "id", "kind", "status", "target_type", "reason", "created_at", "deadline", "handled_at", "response_reason",
    "failure_codes", "association__customer_id", "association__customer__account_name",
    "association__customer__name", "requested_by__username",
]


def request_listing(qs: QuerySet[AssociationRequest]) -> QuerySet:
    """``qs`` as the columns a listed request shows, for :func:`listed_request` (the
    paginator's ``row=``): not a model instance per request, association, customer and
    requester, which cost more than the rest of the page's rows (issue 16)."""
    return qs.values_list(*_LISTED)


def listed_request(values: tuple) -> ListedRequest:
    return ListedRequest(*values)


def with_overdue(qs: QuerySet[AssociationRequest]) -> QuerySet[AssociationRequest]:
    """Each request with ``association_overdue``: whether its association has a pending request
    past its deadline (this one or another), so a read that settles first
    (``customers.requests.services._settled``) spends no statement looking when there is none."""
    due = AssociationRequest.objects.filter(
        association_id=OuterRef("association_id"), status=Status.PENDING, deadline__lte=timezone.now()
    )
    return qs.annotate(association_overdue=Exists(due))


def request_for_member(user, pk) -> AssociationRequest:
    return get_object_or_404(
        with_overdue(requests_for_member(user)).select_related(
            "association__partner", "association__customer", "requested_by"
        ),
        pk=pk,
    )


def request_for_customer(customer: Customer, pk) -> AssociationRequest:
    return get_object_or_404(
        with_overdue(AssociationRequest.objects.filter(association__customer=customer)).select_related(
            "association__partner", "association__customer"
        ),
        pk=pk,
    )


def _active_association_of(customer: Customer) -> QuerySet[Association]:
    return Association.objects.filter(customer=customer, status=Association.Status.ACTIVE)


def active_association_for_customer(customer: Customer) -> Association | None:
    return _active_association_of(customer).select_related("partner__distributor", "customer").first()


def account_center_association(customer: Customer) -> Association | None:
    """:func:`active_association_for_customer` as the Account Center home shows it: the
    association's columns and its partner's name and currency, with ``customer`` given rather
    than joined again."""
    association = (
        _active_association_of(customer)
        .select_related("partner")
        .only(*[f.attname for f in Association._meta.concrete_fields], "partner__name", "partner__currency")
        .first()
    )
    if association is not None:
        association.customer = customer
    return association


def requests_for_customer(customer: Customer) -> QuerySet[AssociationRequest]:
    return AssociationRequest.objects.filter(association__customer=customer).select_related("association__partner")


def open_request_for(association: Association) -> AssociationRequest | None:
    return (
        AssociationRequest.objects.filter(association=association, status=Status.PENDING, deadline__gt=timezone.now())
        .select_related("requested_by")
        .first()
    )


# The pages that show an association's requests list this many, newest first.
LATEST = 10


@dataclass
class RequestOverview:
    """What a page shows of requests, read in one statement (:func:`request_overview`): the
    ``latest`` (newest first) and every ``pending`` one (deadline first), including those
    past their deadline, which the page settles before it shows anything."""

    latest: list[AssociationRequest]
    pending: list[AssociationRequest]

    def overdue(self, now: datetime) -> bool:
        return any(r.deadline <= now for r in self.pending)

    def open(self, now: datetime) -> list[AssociationRequest]:
        return [r for r in self.pending if r.deadline > now]

    def open_request(self, now: datetime) -> AssociationRequest | None:
        return next(iter(self.open(now)), None)


def request_overview(
    qs: QuerySet[AssociationRequest], *, pending: Q | None = None, latest: int = LATEST, annotations=None
) -> RequestOverview:
    """The ``latest`` requests of ``qs`` and its pending ones matching ``pending``, in one
    statement: the newest ids as a subquery ORed with the pending condition, so the pending
    ones are read even when they are not among the newest. ``annotations`` are added to the
    rows read, not to the subquery (a join they need is not planned twice)."""
    newest = qs.order_by("-created_at", "-pk").values("pk")[:latest]
    listed_pending = Q(status=Status.PENDING) & (Q() if pending is None else pending)
    flagged = Case(When(listed_pending, then=Value(True)), default=Value(False), output_field=BooleanField())
    rows = list(
        qs.filter(Q(pk__in=newest) | listed_pending)
        .annotate(listed_pending=flagged, **(annotations or {}))
        .order_by("-created_at", "-pk")
    )
    # The newest ids are the first ``latest`` rows of qs, and every row read is one of qs.
    return RequestOverview(
        latest=rows[:latest],
        pending=sorted((r for r in rows if r.listed_pending), key=lambda r: (r.deadline, r.pk)),
    )


def association_request_overview(association: Association) -> RequestOverview:
    """The partner's customer page: the association's latest requests and pending ones, with
    only what the page shows of them (kind, status, submitted, deadline: the requester is
    shown on the request's own page)."""
    return request_overview(
        AssociationRequest.objects.filter(association=association).only(
            "association_id", "kind", "status", "created_at", "deadline"
        )
    )


def customer_request_overview(customer: Customer) -> RequestOverview:
    """The Account Center: the customer's latest requests (on any association) and the
    pending ones on its active association, with only what the home shows of them: their own
    columns and ``partner_name``, their association's partner's name (no association or
    partner rows)."""
    return request_overview(
        AssociationRequest.objects.filter(association__customer=customer)
        .only("association_id", "kind", "status", "created_at", "deadline"),
        pending=Q(association__status=Association.Status.ACTIVE),
        annotations={"partner_name": F("association__partner__name")},
    )


def pending_request_overview(association: Association) -> RequestOverview:
    """The association's pending requests alone (the account check page shows the open one),
    overdue ones included so that the page can settle them first."""
    pending = list(
        AssociationRequest.objects.filter(association=association, status=Status.PENDING)
        .select_related("requested_by")
        .order_by("deadline", "pk")
    )
    return RequestOverview(latest=[], pending=pending)
