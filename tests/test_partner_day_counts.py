"""The partner home's charts come from per-day counts the database keeps (``PartnerDayCount``,
customers migration 0010): whatever writes the rows (factories, services, queryset updates,
deletes, a new customer manager), the charts equal a count of the rows themselves, in every time
zone (a month boundary cuts a UTC day in Shanghai, Kolkata and New York, not in UTC) and for a
customer manager's scope. The reference below counts in Python, row by row, knowing nothing of
the day counts or the SQL."""
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from customers.checks import add_months
from customers.home import selectors as home
from customers.models import Association, AssociationRequest, LedgerEntry, PartnerDayCount
from customers.selectors import manager_scope
from partnercenter import factories as f

ZONES = ["UTC", "Asia/Shanghai", "Asia/Kolkata", "America/New_York"]


def month_of(moment):
    return timezone.localtime(moment).date().replace(day=1)


def in_scope(user, customer) -> bool:
    scope = manager_scope(user)
    return scope is None or (customer is not None and customer.manager_id in scope)


def reference(user, months, now):
    """The charts counted from the rows, one by one."""
    first = months[0]
    keys = [m.date() for m in months]
    new, ended = Counter(), Counter()
    for a in Association.objects.filter(partner=user.partner).select_related("customer"):
        if not in_scope(user, a.customer):
            continue
        if a.started_at >= first:
            new[month_of(a.started_at)] += 1
        if a.status == Association.Status.ENDED and a.ended_at and a.ended_at >= first:
            ended[month_of(a.ended_at)] += 1
    allocated, recovered = Counter(), Counter()
    for e in LedgerEntry.objects.filter(partner=user.partner, created_at__gte=first).select_related("customer"):
        if not in_scope(user, e.customer):
            continue
        if e.kind == LedgerEntry.Kind.ALLOCATION:
            allocated[month_of(e.created_at)] += e.amount
        elif e.kind in (LedgerEntry.Kind.RECOVERY, LedgerEntry.Kind.RETURNED_ON_END):
            recovered[month_of(e.created_at)] += e.amount
    outcomes = Counter()
    requests = AssociationRequest.objects.filter(association__partner=user.partner, created_at__gte=first)
    for r in requests.select_related("association__customer"):
        if not in_scope(user, r.association.customer):
            continue
        overdue = r.status == AssociationRequest.Status.PENDING and r.deadline <= now
        outcomes[AssociationRequest.Status.EXPIRED.value if overdue else r.status] += 1
    return {
        "associations": {"new": [new[k] for k in keys], "ended": [ended[k] for k in keys]},
        "funds": {
            "allocated": [allocated[k] or Decimal("0.00") for k in keys],
            "recovered": [recovered[k] or Decimal("0.00") for k in keys],
        },
        "requests": {s.value: outcomes[s.value] for s in home.REQUEST_OUTCOMES},
    }


def charts(user, months, now):
    """What the home draws (one read of the day counts), each chart read alone beside it."""
    together = home.chart_numbers(user, months, now=now, associations=True, funds=True)
    alone = {
        "associations": home.association_chart(user, months),
        "funds": home.funds_chart(user, months),
        "requests": home.request_outcomes(user, since=months[0], now=now),
    }
    assert together == alone
    return together


def boundaries(zone, now):
    """Moments around each month start of the charts in ``zone``, and the cut UTC days' noon."""
    with timezone.override(ZoneInfo(zone)):
        months = home.chart_months(now)
    moments = []
    for start in [*months, add_months(months[-1], 1)]:
        for delta in (timedelta(minutes=-1), timedelta(0), timedelta(minutes=1), timedelta(hours=-12)):
            if start + delta <= now:
                moments.append(start + delta)
    return moments


@pytest.fixture
def busy_partner(partner, manager, admin_member, other_partner):
    """Rows of every series on and around the month boundaries of every zone, some of them the
    manager's, and the other partner's rows beside them."""
    now = timezone.now()
    moments = sorted({m for zone in ZONES for m in boundaries(zone, now)})
    statuses = [s.value for s in home.REQUEST_OUTCOMES]
    for i, moment in enumerate(moments):
        customer = f.CustomerFactory(manager=manager if i % 3 == 0 else None)
        a = f.AssociationFactory(partner=partner, customer=customer, started_at=moment)
        f.AssociationRequestFactory(
            association=a, status=statuses[i % len(statuses)], created_at=moment,
            deadline=moment + timedelta(days=7 if i % 2 else 400),
        )
        kind = [LedgerEntry.Kind.ALLOCATION, LedgerEntry.Kind.RECOVERY, LedgerEntry.Kind.RETURNED_ON_END,
                LedgerEntry.Kind.TOP_UP][i % 4]
        LedgerEntry.objects.create(partner=partner, customer=customer, kind=kind,
                                   amount=Decimal("10.25") + i, partner_balance_after=0, created_at=moment)
        f.AssociationFactory(partner=other_partner, started_at=moment)
    # Some associations end on boundaries, one by one; others together, in one statement.
    ended = {"status": Association.Status.ENDED, "end_reason": Association.EndReason.UNBIND}
    associations = list(Association.objects.filter(partner=partner).order_by("id"))
    for a, moment in zip(associations[::4], reversed(moments), strict=False):
        Association.objects.filter(pk=a.pk).update(**ended, ended_at=max(moment, a.started_at))
    Association.objects.filter(pk__in=[a.pk for a in associations[1::4]]).update(**ended, ended_at=now)
    return partner


@pytest.mark.parametrize("zone", ZONES)
def test_the_charts_equal_a_count_of_the_rows_in_every_time_zone(busy_partner, admin_member, manager, zone):
    now = timezone.now()
    with timezone.override(ZoneInfo(zone)):
        months = home.chart_months(now)
        for user in (admin_member, manager):
            assert charts(user, months, now) == reference(user, months, now), (zone, user)


def test_every_kind_of_write_moves_the_counts(busy_partner, admin_member, manager, supervisor):
    now = timezone.now()
    months = home.chart_months(now)
    requests = AssociationRequest.objects.filter(association__partner=busy_partner).order_by("id")
    # Requests settled one by one (a model save) and many at once (an update).
    first = requests.first()
    first.status = AssociationRequest.Status.APPROVED
    first.save()
    requests.filter(status=AssociationRequest.Status.PENDING).update(status=AssociationRequest.Status.CANCELLED)
    requests.filter(pk=requests.last().pk).delete()
    # A manager takes customers over, one by save and many by an update; one loses its manager.
    customers = [a.customer for a in Association.objects.filter(partner=busy_partner).order_by("id")[:6]]
    customers[0].manager = manager
    customers[0].save()
    type(customers[0]).objects.filter(pk__in=[c.pk for c in customers[1:4]]).update(manager=supervisor)
    type(customers[0]).objects.filter(pk=customers[4].pk).update(manager=None)
    # An association is deleted with its requests.
    gone = Association.objects.filter(partner=busy_partner).order_by("-id").first()
    gone.requests.all().delete()
    gone.delete()
    for user in (admin_member, manager, supervisor):
        assert charts(user, months, now) == reference(user, months, now), user


def test_counts_are_kept_per_partner_day_and_manager(partner, manager):
    moment = timezone.now().replace(hour=12)
    f.AssociationFactory(partner=partner, customer=f.CustomerFactory(manager=manager), started_at=moment)
    f.AssociationFactory(partner=partner, started_at=moment)
    counts = {
        (c.series, c.day, c.manager_id): c.tally for c in PartnerDayCount.objects.filter(partner=partner)
    }
    day = moment.astimezone(ZoneInfo("UTC")).date()
    assert counts == {("assoc.started", day, manager.pk): 1, ("assoc.started", day, 0): 1}
