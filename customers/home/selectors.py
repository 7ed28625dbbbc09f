"""Reads of the two homes: the partner home at ``/`` (to-dos, figures, charts) and the Account
Center home. Every read is scoped like the pages it links to (the partner's own rows, narrowed
to a customer manager's customers through ``manager_scope``) and bounded: the to-do lists by a
row limit and an index on their deadline, the figures by ``bounded_count`` (the same count the
linked list shows), the charts by a twelve-month window on an index that starts with the
partner. The view decides which blocks a member's permissions allow and calls only those."""
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, DateTimeField, Exists, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Cast, TruncMonth
from django.utils import timezone

from customers.checks import add_months, cooldown_months
from customers.models import (
    Association,
    AssociationRequest,
    Invitation,
    LedgerEntry,
    PartnerDayCount,
)
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
    open_ones = AssociationRequest.objects.filter(status=RequestStatus.PENDING, deadline__gt=now, kind__in=kinds)
    scope = manager_scope(user)
    if scope is None:
        qs = open_ones.filter(association__partner=user.partner, association__status=Association.Status.ACTIVE)
    else:
        # A customer manager's: walked in deadline order, each request's association looked up
        # by its key until the rows are found. Joined, the manager's customers made the planner
        # read every pending request of every partner and sort them (bench/README §8).
        mine = Association.objects.filter(
            pk=OuterRef("association_id"), partner=user.partner, status=Association.Status.ACTIVE,
            customer__manager_id__in=scope,
        )
        qs = open_ones.filter(Exists(mine))
    rows = qs.order_by("deadline", "id").values_list(
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
        "frozen": base.filter(customer_frozen=True),  # the association's copy (customers 0016)
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


def _month_key(moment) -> date:
    """The local month a database-truncated month (a moment, or a date on some backends) is."""
    return timezone.localtime(moment).date().replace(day=1) if isinstance(moment, datetime) else moment.replace(day=1)


def _by_month(rows, months: list[datetime]) -> dict:
    """{month start: value} for each row (month, value), the month as the database truncated it."""
    index = {m.date().replace(day=1): m for m in months}
    out = {}
    for month, value in rows:
        key = _month_key(month)
        if key in index:
            out[index[key]] = value
    return out


def _monthly_counts(qs: QuerySet, moment: str):
    return qs.annotate(month=TruncMonth(moment)).values("month").annotate(n=Count("id")).values_list("month", "n")


# The charts read the per-day counts the database keeps (``PartnerDayCount``, by partner, UTC
# day and the customer's manager, so a customer manager's scope is a sum of them too): a UTC day
# lies in one local month unless a month starts inside it. Those days, where a month boundary
# falls other than at UTC midnight, are counted from the rows themselves.


@dataclass(frozen=True, slots=True)
class _Split:
    """The UTC days a month boundary cuts."""

    days: list[date]

    def rows_on(self, moment: str) -> Q:
        condition = Q(pk__in=[])
        for day in self.days:
            start = datetime.combine(day, time(), tzinfo=UTC)
            condition |= Q(**{f"{moment}__gte": start, f"{moment}__lt": start + timedelta(days=1)})
        return condition


def _split(boundaries: list[datetime]) -> _Split:
    days = {b.astimezone(UTC).date() for b in boundaries if b.astimezone(UTC).time() != time()}
    return _Split(sorted(days))


def _day_counts(user, series: list[str], since: datetime, split: _Split) -> dict[tuple[str, date], list[int]]:
    """{(series, local month start date): [tally, cents]} of the whole UTC days since ``since``,
    for the partner or the customer manager's scope, the cut days left out. One statement on
    ``daycount_read``."""
    qs = PartnerDayCount.objects.filter(
        partner_id=user.partner_id, series__in=series, day__gte=since.astimezone(UTC).date(),
    ).exclude(day__in=split.days)
    scope = manager_scope(user)
    if scope is not None:
        qs = qs.filter(manager_id__in=scope)
    # A whole UTC day lies in the local month of its midnight: the database sums the days by
    # that month (a row per series and month, not per day: a year of days made ~2,800 rows to
    # convert and add up here, bench/README §17).
    month = TruncMonth(Cast("day", DateTimeField()))
    rows = (
        qs.annotate(month=month).values("series", "month")
        .annotate(t=Sum("tally"), c=Sum("cents")).values_list("series", "month", "t", "c")
    )
    out: dict[tuple[str, date], list[int]] = {}
    for name, moment, tally, cents in rows:
        totals = out.setdefault((name, _month_key(moment)), [0, 0])
        totals[0] += tally
        totals[1] += cents
    return out


def _chart_split(months: list[datetime]) -> _Split:
    return _split([*months, add_months(months[-1], 1)])


ASSOCIATION_SERIES = ["assoc.started", "assoc.ended"]


def _request_series() -> list[str]:
    return [f"request.{status.value}" for status in REQUEST_OUTCOMES]


def _ledger_series() -> list[str]:
    return [f"ledger.{kind.value}" for kinds in FUND_SERIES.values() for kind in kinds]


def chart_numbers(user, months: list[datetime], *, now: datetime, associations: bool, funds: bool) -> dict:
    """The home's charts, those asked for: ``associations`` (and ``requests``, submitted since
    the first month) and ``funds``, from one read of the day counts."""
    split = _chart_split(months)
    series = [*(ASSOCIATION_SERIES + _request_series() if associations else []), *(_ledger_series() if funds else [])]
    counts = _day_counts(user, series, months[0], split) if series else {}
    data = {}
    if associations:
        data["associations"] = association_chart(user, months, split=split, counts=counts)
        data["requests"] = request_outcomes(user, since=months[0], now=now, split=split, counts=counts)
    if funds:
        data["funds"] = funds_chart(user, months, split=split, counts=counts)
    return data


def association_chart(
    user, months: list[datetime], *, split: _Split | None = None, counts=None
) -> dict[str, list[int]]:
    """New and ended associations of the partner per month (day counts ``assoc.started`` and
    ``assoc.ended``; the cut days on ``assoc_partner_started`` and ``assoc_partner_ended``)."""
    start = months[0]
    split = split or _chart_split(months)
    if counts is None:
        counts = _day_counts(user, ASSOCIATION_SERIES, start, split)
    index = {m.date(): m for m in months}
    totals = {name: dict.fromkeys(months, 0) for name in ASSOCIATION_SERIES}
    if split.days:
        started = Association.objects.filter(partner=user.partner, started_at__gte=start)
        ended = Association.objects.filter(partner=user.partner, status=Association.Status.ENDED, ended_at__gte=start)
        for name, qs, moment in (("assoc.started", started, "started_at"), ("assoc.ended", ended, "ended_at")):
            cut = _narrow(qs.filter(split.rows_on(moment)), user, "customer")
            for month, n in _by_month(_monthly_counts(cut, moment), months).items():
                totals[name][month] += n
    for (name, key), (tally, _cents) in counts.items():
        if name in totals and key in index:
            totals[name][index[key]] += tally
    return {"new": list(totals["assoc.started"].values()), "ended": list(totals["assoc.ended"].values())}


FUND_SERIES = {
    "allocated": [LedgerEntry.Kind.ALLOCATION],
    "recovered": [LedgerEntry.Kind.RECOVERY, LedgerEntry.Kind.RETURNED_ON_END],
}


def funds_chart(
    user, months: list[datetime], *, split: _Split | None = None, counts=None
) -> dict[str, list[Decimal]]:
    """Money the partner allocated to its customers, and recovered from them (by hand or
    returned when an association ended or switched), per month (day counts ``ledger.<kind>``;
    the cut days on ``ledger_partner_created``)."""
    kinds = {kind.value: name for name, members in FUND_SERIES.items() for kind in members}
    series = {name: dict.fromkeys(months, Decimal("0.00")) for name in FUND_SERIES}
    index = {m.date(): m for m in months}
    split = split or _chart_split(months)
    if counts is None:
        counts = _day_counts(user, _ledger_series(), months[0], split)
    if split.days:
        qs = LedgerEntry.objects.filter(partner=user.partner, created_at__gte=months[0], kind__in=list(kinds))
        cut = _narrow(qs.filter(split.rows_on("created_at")), user, "customer")
        rows = cut.annotate(month=TruncMonth("created_at")).values("month", "kind").annotate(total=Sum("amount"))
        for row in rows:
            month = index.get(_month_key(row["month"]))
            if month is not None:
                series[kinds[row["kind"]]][month] += row["total"]
    day_series = {f"ledger.{kind}": name for kind, name in kinds.items()}
    for (name, key), (_tally, cents) in counts.items():
        if name in day_series and key in index:
            series[day_series[name]][index[key]] += Decimal(cents) / 100
    return {name: [values[m] for m in months] for name, values in series.items()}


REQUEST_OUTCOMES = [
    RequestStatus.PENDING, RequestStatus.CONFIRMED, RequestStatus.APPROVED, RequestStatus.AUTO_APPROVED,
    RequestStatus.REJECTED, RequestStatus.CANCELLED, RequestStatus.EXPIRED, RequestStatus.FAILED,
]


def request_outcomes(
    user, *, since: datetime, now: datetime, split: _Split | None = None, counts=None
) -> dict[str, int]:
    """Requests submitted on the partner's associations since ``since``, by outcome (day counts
    ``request.<status>``; the cut day on ``request_created``). A pending request past its
    deadline counts as expired, as every page shows it: those are counted from the rows
    (``request_status_deadline``, one look-up of the partner per overdue request, so as many
    as the expiry job has left, a few between its runs)."""
    qs = AssociationRequest.objects.filter(association__partner=user.partner, created_at__gte=since)
    split = split or _split([since])
    if counts is None:
        counts = _day_counts(user, _request_series(), since, split)
    totals = dict.fromkeys((status.value for status in REQUEST_OUTCOMES), 0)
    if split.days:
        cut = _narrow(qs.filter(split.rows_on("created_at")), user, "association__customer")
        for status, n in cut.values("status").annotate(n=Count("id")).values_list("status", "n"):
            totals[status] = totals.get(status, 0) + n
    names = {f"request.{status}": status for status in totals}
    for (name, _key), (tally, _cents) in counts.items():
        if name in names:
            totals[names[name]] += tally
    overdue = overdue_requests(user, since=since, now=now)
    totals[RequestStatus.PENDING.value] -= overdue
    totals[RequestStatus.EXPIRED.value] += overdue
    return {status.value: totals[status.value] for status in REQUEST_OUTCOMES}


def overdue_requests(user, *, since: datetime, now: datetime) -> int:
    """Pending requests submitted since ``since`` whose deadline has passed, on the partner's
    associations (in the customer manager's scope). Each overdue request's association is looked
    up by its key (a subquery per row), not joined: a join reads every association of the
    partner to find the few."""
    of_association = Association.objects.filter(pk=OuterRef("association_id"))
    qs = AssociationRequest.objects.filter(status=RequestStatus.PENDING, deadline__lte=now, created_at__gte=since)
    qs = qs.annotate(partner_of=Subquery(of_association.values("partner_id")[:1])).filter(partner_of=user.partner_id)
    scope = manager_scope(user)
    if scope is not None:
        manager = Subquery(of_association.values("customer__manager_id")[:1])
        qs = qs.annotate(manager_of=manager).filter(manager_of__in=scope)
    return qs.count()


# The Account Center home ---------------------------------------------------------------------


@dataclass
class AccountSummary:
    """What the Account Center home shows first: what the customer must answer, and money."""

    requests_to_answer: list[AssociationRequest] = field(default_factory=list)
    own_dissociation: AssociationRequest | None = None
    expiring_vouchers: list = field(default_factory=list)
    unused_voucher_total: Decimal = Decimal("0.00")


def account_summary(*, requests, vouchers, now: datetime) -> AccountSummary:
    """From what the Account Center home read already: the customer's open requests on its
    active association (the partner's, to answer by their deadline; its own dissociation, to
    wait for) from ``requests`` (its ``RequestOverview``), and its unused vouchers' total and
    those expiring within :data:`VOUCHER_WARNING` from ``vouchers`` (its
    ``AccountCenterVouchers``, read with ``expiring_within=VOUCHER_WARNING``)."""
    summary = AccountSummary(
        expiring_vouchers=vouchers.expiring, unused_voucher_total=vouchers.unused_total
    )
    for association_request in requests.open(now):
        if association_request.kind == Kind.DISSOCIATION:
            summary.own_dissociation = summary.own_dissociation or association_request
        else:
            summary.requests_to_answer.append(association_request)
    return summary
