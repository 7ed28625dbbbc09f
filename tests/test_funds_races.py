"""Funds under concurrency, on PostgreSQL with real threads: whatever runs at once, money is
never created or lost and no balance goes below zero (R11–R12)."""
import uuid
from datetime import timedelta
from decimal import Decimal
from functools import partial

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils import timezone

from audit.models import OperationRecord
from customers.funds import services as funds
from customers.models import Association, Customer, LedgerEntry, Voucher
from organization.models import Partner
from partnercenter import factories as f
from tests.races import run_at_once as at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


def run_at_once(work, args_list):
    """``work(*args)`` for every args in its own thread, all released together."""
    return at_once(*(partial(work, *args) for args in args_list))


def assert_ledger_consistent(partner: Partner):
    """The partner's and its customers' balances are what their ledgers say."""
    partner.refresh_from_db()
    rows = LedgerEntry.objects.filter(partner=partner)

    def total(*kinds):
        return rows.filter(kind__in=kinds).aggregate(s=Sum("amount"))["s"] or Decimal("0.00")

    kind = LedgerEntry.Kind
    assert partner.balance == total(kind.TOP_UP) - total(kind.ALLOCATION) + total(kind.RECOVERY, kind.RETURNED_ON_END)
    latest = rows.exclude(kind=kind.VOUCHER_QUOTA_TOP_UP).order_by("-id").first()
    assert latest is None or latest.partner_balance_after == partner.balance
    for customer in Customer.objects.filter(ledger__partner=partner).distinct():
        mine = rows.filter(customer=customer)
        allocated = mine.filter(kind=kind.ALLOCATION).aggregate(s=Sum("amount"))["s"] or 0
        back = mine.exclude(kind=kind.ALLOCATION).aggregate(s=Sum("amount"))["s"] or 0
        assert customer.allocated_balance == allocated - back
        assert mine.order_by("-id").first().customer_balance_after == customer.allocated_balance
        assert customer.allocated_balance >= 0
    assert partner.balance >= 0


@pytest.fixture
def operator():
    return f.OperatorFactory(username="race-operator")


@pytest.fixture
def partner(operator):
    partner = f.PartnerFactory(account_name="race-partner")
    funds.partner_top_up(actor=operator, partner=partner, amount=Decimal("1000.00"))
    funds.voucher_quota_top_up(actor=operator, partner=partner, amount=Decimal("100.00"))
    return partner


def reseller_association(partner, name="race-cust") -> Association:
    return f.AssociationFactory(
        partner=partner, customer=f.CustomerFactory(account_name=name), type=Association.Type.RESELLER
    )


def test_eight_recoveries_of_the_whole_balance_have_exactly_one_winner(partner, operator):
    association = reseller_association(partner)
    funds.funds_allocate(actor=operator, association=association, amount=Decimal("600.00"))

    outcomes = run_at_once(
        lambda: funds.funds_recover(actor=operator, association=association, amount=Decimal("600.00")),
        [()] * THREADS,
    )

    winners = [o for o in outcomes if isinstance(o, LedgerEntry)]
    losers = [o for o in outcomes if isinstance(o, ValidationError)]
    assert (len(winners), len(losers)) == (1, THREADS - 1), outcomes
    assert all("less than 600.00" in e.messages[0] for e in losers)
    association.customer.refresh_from_db()
    assert association.customer.allocated_balance == 0
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.RECOVERY).count() == 1
    assert_ledger_consistent(partner)


def test_allocations_racing_to_drain_the_partner_never_overdraw_it(partner, operator):
    associations = [reseller_association(partner, f"drain-{i}") for i in range(THREADS)]

    outcomes = run_at_once(
        lambda a: funds.funds_allocate(actor=operator, association=a, amount=Decimal("300.00")),
        [(a,) for a in associations],
    )

    winners = [o for o in outcomes if isinstance(o, LedgerEntry)]
    assert len(winners) == 3, outcomes
    assert all(isinstance(o, ValidationError) for o in outcomes if o not in winners)
    partner.refresh_from_db()
    assert partner.balance == Decimal("100.00")
    assert_ledger_consistent(partner)


def test_one_form_submitted_eight_times_at_once_moves_money_once(partner, operator):
    association = reseller_association(partner)
    token = uuid.uuid4().hex

    outcomes = run_at_once(
        lambda: funds.funds_allocate(
            actor=operator, association=association, amount=Decimal("10.00"), idempotency_key=token
        ),
        [()] * THREADS,
    )

    assert all(isinstance(o, LedgerEntry) for o in outcomes), outcomes
    assert len({o.pk for o in outcomes}) == 1
    assert sum(not o.replayed for o in outcomes) == 1
    association.customer.refresh_from_db()
    assert association.customer.allocated_balance == Decimal("10.00")
    assert_ledger_consistent(partner)


def test_mixed_allocations_recoveries_and_an_end_keep_the_books_balanced(partner, operator):
    association = reseller_association(partner)
    funds.funds_allocate(actor=operator, association=association, amount=Decimal("100.00"))

    def act(kind):
        if kind == "allocate":
            return funds.funds_allocate(actor=operator, association=association, amount=Decimal("70.00"))
        if kind == "recover":
            return funds.funds_recover(actor=operator, association=association, amount=Decimal("45.00"))
        return funds.balance_return_on_end(actor=None, association=association)

    kinds = ["allocate", "recover", "end", "allocate", "recover", "allocate", "recover", "end"]
    outcomes = run_at_once(act, [(k,) for k in kinds])

    assert not any(isinstance(o, Exception) and not isinstance(o, ValidationError) for o in outcomes), outcomes
    assert_ledger_consistent(partner)
    customer = Customer.objects.get(pk=association.customer_id)
    partner.refresh_from_db()
    assert partner.balance + customer.allocated_balance == Decimal("1000.00")


def test_vouchers_racing_for_the_quota_never_overdraw_it(partner, operator):
    association = reseller_association(partner)
    expires = timezone.now() + timedelta(days=30)

    outcomes = run_at_once(
        lambda: funds.voucher_issue(actor=operator, association=association, amount=Decimal("30.00"),
                                    expires_at=expires),
        [()] * THREADS,
    )

    assert sum(isinstance(o, Voucher) for o in outcomes) == 3, outcomes
    partner.refresh_from_db()
    assert partner.voucher_quota == Decimal("10.00")
    assert Voucher.objects.count() == 3


def test_recovering_one_voucher_eight_times_at_once_returns_it_once(partner, operator):
    association = reseller_association(partner)
    voucher = funds.voucher_issue(actor=operator, association=association, amount=Decimal("40.00"),
                                  expires_at=timezone.now() + timedelta(days=30))

    def recover_one_or_all(i):
        if i % 2:
            return funds.voucher_recover(actor=operator, voucher=voucher)
        return funds.vouchers_recover_all(actor=operator, association=association)

    outcomes = run_at_once(recover_one_or_all, [(i,) for i in range(THREADS)])

    assert not any(isinstance(o, Exception) and not isinstance(o, ValidationError) for o in outcomes), outcomes
    partner.refresh_from_db()
    assert partner.voucher_quota == Decimal("100.00")
    assert Voucher.objects.get().status == Voucher.Status.RECOVERED
    events = ["voucher.recovered", "voucher.recovered_all"]
    assert OperationRecord.objects.filter(event__in=events).count() == 1
