"""Reads of the two homes: the partner home at ``/`` (to-dos, figures, charts) and the Account
Center home. Every read is scoped like the pages it links to (the partner's own rows, narrowed
to a customer manager's customers through ``manager_scope``) and bounded: the to-do lists by a
row limit and an index on their deadline, the figures by ``bounded_count`` (the same count the
linked list shows), the charts by a twelve-month window on an index that starts with the
partner. The view decides which blocks a member's permissions allow and calls only those."""
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Case, CharField, Count, Exists, F, OuterRef, QuerySet, Sum, Value, When
from django.db.models.functions import TruncMonth
from django.utils import timezone

from customers.checks import add_months, cooldown_months
from customers.models import Association, AssociationRequest, Customer, Invitation, LedgerEntry, Voucher
from customers.selectors import active_associations_for, manager_scope
from partnercenter.pagination import bounded_count

Kind = AssociationRequest.Kind
RequestStatus = AssociationRequest.Status

# Rows of one kind a to-do block lists; the rest are behind its "all" link.
TODO_ROWS = 5
INVITATION_WARNING = timedelta(hours=48)
COOLDOWN_WARNING = timedelta(days=7)
CHART_MONTHS = 12
VOUCHER_WARNING = timedelta(days=30)


def _narrow(qs: QuerySet, user, customer_path: str) -> QuerySet:
    scope = manager_scope(user)
    return qs if scope is None else qs.filter(**{f"{customer_path}__manager_id__in": scope})


# To do ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpenRequest:
    """A pending request on one of the partner's associations: who must act and by when."""

    id: int
    kind: str
    deadline: datetime
    customer_id: int
    customer_name: str
    customer_account: str

    @property
    def waits_on_partner(self) -> bool:
        return self.kind == Kind.DISSOCIATION


def open_requests(user, *, dissociations: bool, partner_requests: bool, now: datetime) -> list[OpenRequest]:
    """Pending requests still inside their deadline, earliest deadline first, at most
    ``TODO_ROWS`` of each side: the customers' dissociations waiting for the partner (approved
    automatically at the deadline) and the partner's switches and unbinds waiting for the
    customer (expire at the deadline). One statement on ``request_status_deadline``."""
    kinds = [*([Kind.DISSOCIATION] if dissociations else []), *([Kind.SWITCH, Kind.UNBIND] if partner_requests else [])]
    if not kinds:
        return []
    qs = AssociationRequest.objects.filter(
        association__partner=user.partner,
        association__status=Association.Status.ACTIVE,
        status=RequestStatus.PENDING,
        deadline__gt=now,
        kind__in=kinds,
    )
    rows = _narrow(qs, user, "association__customer").order_by("deadline", "id").values_list(
        "id", "kind", "deadline", "association__customer_id", "association__customer__name",
        "association__customer__account_name",
    )[: 2 * TODO_ROWS + 1]
    return [OpenRequest(*row) for row in rows]


@dataclass(frozen=True, slots=True)
class ExpiringInvitation:
    id: int
    email: str
    name: str
    expires_at: datetime


def expiring_invitations(user, *, now: datetime) -> list[ExpiringInvitation]:
    """Sent invitations that stop working within 48 hours (``invitation_partner_expiry``),
    those a customer manager sent (``invitations_for``'s scope)."""
    qs = Invitation.objects.filter(
        partner_id=user.partner_id, status=Invitation.Status.SENT, expires_at__gt=now,
        expires_at__lte=now + INVITATION_WARNING,
    )
    scope = manager_scope(user)
    if scope is not None:
        qs = qs.filter(created_by_id__in=scope)
    rows = qs.order_by("expires_at", "id").values_list("id", "email", "name", "expires_at")[: TODO_ROWS + 1]
    return [ExpiringInvitation(*row) for row in rows]


@dataclass(frozen=True, slots=True)
class EndingCooldown:
    """A customer on whom the partner may switch or unbind again on ``ends_at``."""

    customer_id: int
    customer_name: str
    customer_account: str
    ends_at: datetime


def ending_cooldowns(user, *, now: datetime) -> list[EndingCooldown]:
    """Active customers whose switch-or-unbind cooldown (R8: the partner's own last switch or
    unbind, or the customer's last dissociation request) ends within the next seven days.

    The window is on the submission time (``request_created``): a cooldown ends
    ``COOLDOWN_MONTHS`` calendar months after it, so the submissions of a week, three months
    ago, a day wider at each end for short months; ``add_months`` then keeps the exact ones,
    and a later submission on the same association (whose cooldown ends later) drops it."""
    months = cooldown_months()
    start = add_months(now, -months) - timedelta(days=1)
    end = add_months(now + COOLDOWN_WARNING, -months) + timedelta(days=1)
    later = AssociationRequest.objects.filter(
        association=OuterRef("association"), created_at__gt=OuterRef("created_at"),
    )
    qs = AssociationRequest.objects.filter(
        association__partner=user.partner,
        association__status=Association.Status.ACTIVE,
        created_at__gt=start,
        created_at__lte=end,
    ).filter(~Exists(later))
    rows = _narrow(qs, user, "association__customer").order_by("created_at").values_list(
        "association__customer_id", "association__customer__name", "association__customer__account_name", "created_at"
    )[: 4 * TODO_ROWS]
    found: dict[int, EndingCooldown] = {}
    for customer_id, name, account, created_at in rows:
        ends_at = add_months(created_at, months)
        if now < ends_at <= now + COOLDOWN_WARNING:
            found[customer_id] = EndingCooldown(customer_id, name, account, ends_at)
    return sorted(found.values(), key=lambda c: c.ends_at)[:TODO_ROWS]


# Figures --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Figure:
    """A count with whether it is the planner's estimate (past the exact-count limit)."""

    count: int
    estimate: bool


def customer_figures(user) -> dict[str, Figure]:
    """Active customers by association type and by account status, and those with a pending
    request: each the count the customer list shows for the same filter."""
    base = active_associations_for(user)
    querysets = {
        "referral": base.filter(type=Association.Type.REFERRAL),
        "reseller": base.filter(type=Association.Type.RESELLER),
        "frozen": base.filter(customer__frozen=True),
        "arrears": base.filter(customer__arrears__gt=0),
    }
    return {key: Figure(*bounded_count(qs)) for key, qs in querysets.items()}


def recent_records_figure(user, *, since: datetime) -> Figure:
    from audit.selectors import records_visible_to

    return Figure(*bounded_count(records_visible_to(user).filter(created_at__gte=since)))


# Charts ---------------------------------------------------------------------------------------


def chart_months(now: datetime) -> list[datetime]:
    """The first moment of each of the last ``CHART_MONTHS`` months (this one included), in
    the current time zone."""
    local = timezone.localtime(now)
    first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return [add_months(first, -back) for back in range(CHART_MONTHS - 1, -1, -1)]


def _by_month(rows, months: list[datetime]) -> dict:
    """{month start: value} for each row (month, value), the month as the database truncated it."""
    index = {m.date().replace(day=1): m for m in months}
    out = {}
    for month, value in rows:
        key = timezone.localtime(month).date().replace(day=1) if isinstance(month, datetime) else month
        if key in index:
            out[index[key]] = value
    return out


def _monthly_counts(qs: QuerySet, moment: str):
    return qs.annotate(month=TruncMonth(moment)).values("month").annotate(n=Count("id")).values_list("month", "n")


def association_chart(user, months: list[datetime]) -> dict[str, list[int]]:
    """New and ended associations of the partner per month (``assoc_partner_started`` and
    ``assoc_partner_ended``)."""
    start = months[0]
    started = _narrow(Association.objects.filter(partner=user.partner, started_at__gte=start), user, "customer")
    ended = _narrow(
        Association.objects.filter(partner=user.partner, status=Association.Status.ENDED, ended_at__gte=start),
        user,
        "customer",
    )
    new = _by_month(_monthly_counts(started, "started_at"), months)
    gone = _by_month(_monthly_counts(ended, "ended_at"), months)
    return {"new": [new.get(m, 0) for m in months], "ended": [gone.get(m, 0) for m in months]}


FUND_SERIES = {
    "allocated": [LedgerEntry.Kind.ALLOCATION],
    "recovered": [LedgerEntry.Kind.RECOVERY, LedgerEntry.Kind.RETURNED_ON_END],
}


def funds_chart(user, months: list[datetime]) -> dict[str, list[Decimal]]:
    """Money the partner allocated to its customers, and recovered from them (by hand or
    returned when an association ended or switched), per month (``ledger_partner_created``)."""
    qs = _narrow(
        LedgerEntry.objects.filter(
            partner=user.partner,
            created_at__gte=months[0],
            kind__in=[kind for kinds in FUND_SERIES.values() for kind in kinds],
        ),
        user,
        "customer",
    )
    rows = qs.annotate(month=TruncMonth("created_at")).values("month", "kind").annotate(total=Sum("amount"))
    series = {name: dict.fromkeys(months, Decimal("0.00")) for name in FUND_SERIES}
    index = {m.date(): m for m in months}
    for row in rows:
        month = index.get(timezone.localtime(row["month"]).date().replace(day=1))
        if month is None:
            continue
        for name, kinds in FUND_SERIES.items():
            if row["kind"] in kinds:
                series[name][month] += row["total"]
    return {name: [values[m] for m in months] for name, values in series.items()}


REQUEST_OUTCOMES = [
    RequestStatus.PENDING, RequestStatus.CONFIRMED, RequestStatus.APPROVED, RequestStatus.AUTO_APPROVED,
    RequestStatus.REJECTED, RequestStatus.CANCELLED, RequestStatus.EXPIRED, RequestStatus.FAILED,
]


def request_outcomes(user, *, since: datetime, now: datetime) -> dict[str, int]:
    """Requests submitted on the partner's associations since ``since``, by outcome; a pending
    request past its deadline counts as expired, as every page shows it
    (``request_created``)."""
    qs = _narrow(
        AssociationRequest.objects.filter(association__partner=user.partner, created_at__gte=since),
        user,
        "association__customer",
    )
    outcome = Case(
        When(status=RequestStatus.PENDING, deadline__lte=now, then=Value(RequestStatus.EXPIRED.value)),
        default=F("status"),
        output_field=CharField(),
    )
    counts = dict(qs.annotate(outcome=outcome).values("outcome").annotate(n=Count("id")).values_list("outcome", "n"))
    return {status.value: counts.get(status.value, 0) for status in REQUEST_OUTCOMES}


# The Account Center home ---------------------------------------------------------------------


@dataclass
class AccountSummary:
    """What the Account Center home shows first: what the customer must answer, and money."""

    requests_to_answer: list[AssociationRequest] = field(default_factory=list)
    own_dissociation: AssociationRequest | None = None
    expiring_vouchers: list[Voucher] = field(default_factory=list)
    unused_voucher_total: Decimal = Decimal("0.00")


def account_summary(customer: Customer, *, now: datetime | None = None, requests=None, vouchers=None) -> AccountSummary:
    """The customer's open requests on its active association (the partner's, to answer by
    their deadline; its own dissociation, to wait for) and its unused vouchers: their total
    and those expiring within 30 days. Two statements, or none when the Account Center home
    passes what it read already (``requests``: a ``RequestOverview`` of the customer,
    ``vouchers``: its ``AccountCenterVouchers``)."""
    now = now or timezone.now()
    summary = AccountSummary()
    if requests is not None:
        pending = requests.open(now)
    else:
        pending = (
            AssociationRequest.objects.filter(
                association__customer=customer,
                association__status=Association.Status.ACTIVE,
                status=RequestStatus.PENDING,
                deadline__gt=now,
            )
            .select_related("association__partner")
            .order_by("deadline", "id")
        )
    for association_request in pending:
        if association_request.kind == Kind.DISSOCIATION:
            summary.own_dissociation = summary.own_dissociation or association_request
        else:
            summary.requests_to_answer.append(association_request)
    if vouchers is not None:
        unused = vouchers.unused
    else:
        unused = list(
            Voucher.objects.filter(customer=customer, status=Voucher.Status.UNUSED, expires_at__gt=now)
            .select_related("partner")
            .order_by("expires_at", "id")
        )
    summary.unused_voucher_total = sum((v.amount for v in unused), Decimal("0.00"))
    summary.expiring_vouchers = [v for v in unused if v.expires_at <= now + VOUCHER_WARNING]
    return summary
