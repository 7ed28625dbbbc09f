"""Property: whatever sequence of top-ups, allocations, recoveries, voucher issues and
recoveries, double submits, switches and end-of-association returns happens, money is
never created or lost (R12).

Each example builds two partners with three customers inside a transaction that is rolled
back at its end, so examples do not see each other's rows."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers.funds import services as funds
from customers.models import Association, Customer, LedgerEntry, Voucher
from organization.models import Partner
from partnercenter import factories as f

K = LedgerEntry.Kind
ZERO = Decimal("0.00")

amounts = st.one_of(
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("600"), places=2),
    st.sampled_from([Decimal("1.00"), Decimal("10.00"), Decimal("50.00")]),
    # Refused ones: zero, negative, three places, over the maximum.
    st.sampled_from([Decimal("0"), Decimal("-5.00"), Decimal("1.005"), Decimal("1000000.01")]),
)
# One shape for every operation with its kind drawn uniformly, so that every kind is well
# represented (hypothesis's one_of favours its first branches). The target picks a customer,
# partner or voucher modulo how many there are. A missing amount on a recovery means the
# customer's whole allocated balance, as a partner recovering everything would. Tokens come
# from a small pool so the same one returns: a double submit, or a form reused elsewhere.
KINDS = [
    "top_up", "quota_top_up", "allocate", "recover", "issue", "recover_voucher", "recover_all",
    "return_on_end", "switch",
]
operations = st.tuples(
    st.sampled_from(KINDS),
    st.integers(min_value=0, max_value=5),
    st.one_of(st.none(), amounts),
    st.one_of(st.none(), st.sampled_from(["t1", "t2", "t3"])),
)


def state():
    return (
        list(Partner.objects.order_by("pk").values_list("pk", "balance", "voucher_quota")),
        list(Customer.objects.order_by("pk").values_list("pk", "allocated_balance")),
        list(LedgerEntry.objects.order_by("pk").values_list("pk", flat=True)),
        list(Voucher.objects.order_by("pk").values_list("pk", "status")),
    )


def total(qs, field="amount") -> Decimal:
    return qs.aggregate(s=Sum(field))["s"] or ZERO


def check_invariants(world):
    ps = list(Partner.objects.filter(pk__in=[p.pk for p in world["partners"]]))
    cs = list(Customer.objects.filter(pk__in=[a.customer_id for a in world["associations"]]))
    ledger = LedgerEntry.objects.filter(partner__in=ps)

    # Σ partner balances + Σ customer allocated balances changes only by top-ups.
    assert sum(p.balance for p in ps) + sum(c.allocated_balance for c in cs) == total(ledger.filter(kind=K.TOP_UP))

    for p in ps:
        mine = ledger.filter(partner=p)
        assert p.balance >= 0 and p.voucher_quota >= 0
        assert p.balance == (
            total(mine.filter(kind=K.TOP_UP))
            - total(mine.filter(kind=K.ALLOCATION))
            + total(mine.filter(kind__in=[K.RECOVERY, K.RETURNED_ON_END]))
        )
        last = mine.exclude(kind=K.VOUCHER_QUOTA_TOP_UP).order_by("-id").first()
        assert last is None or last.partner_balance_after == p.balance
        # Voucher quota + Σ unused vouchers is conserved: it changes only by quota top-ups.
        unused = total(Voucher.objects.filter(partner=p, status=Voucher.Status.UNUSED))
        assert p.voucher_quota + unused == total(mine.filter(kind=K.VOUCHER_QUOTA_TOP_UP))

    for c in cs:
        mine = LedgerEntry.objects.filter(customer=c)
        assert c.allocated_balance >= 0
        assert c.allocated_balance == total(mine.filter(kind=K.ALLOCATION)) - total(
            mine.filter(kind__in=[K.RECOVERY, K.RETURNED_ON_END])
        )
        last = mine.order_by("-id").first()
        assert last is None or last.customer_balance_after == c.allocated_balance


def build_world(operator):
    a = f.PartnerFactory(account_name="prop-a")
    b = f.PartnerFactory(account_name="prop-b")
    made = [
        (a, Association.Type.RESELLER),
        (a, Association.Type.REFERRAL),
        (b, Association.Type.RESELLER),
    ]
    assocs = [
        f.AssociationFactory(partner=p, customer=f.CustomerFactory(account_name=f"prop-c{i}"), type=t)
        for i, (p, t) in enumerate(made)
    ]
    # Start with money and quota, so that short sequences already move some.
    for partner in (a, b):
        funds.partner_top_up(actor=operator, partner=partner, amount=Decimal("1000.00"))
        funds.voucher_quota_top_up(actor=operator, partner=partner, amount=Decimal("300.00"))
    return {"partners": [a, b], "associations": assocs, "operator": operator}


def apply(world, op):
    name, target, amount, token = op
    operator = world["operator"]
    if name in ("top_up", "quota_top_up"):
        service = funds.partner_top_up if name == "top_up" else funds.voucher_quota_top_up
        partner = world["partners"][target % 2]
        service(actor=operator, partner=partner, amount=amount or Decimal("100.00"), idempotency_key=token)
        return
    if name == "recover_voucher":
        vouchers = list(Voucher.objects.order_by("pk"))
        if vouchers:
            funds.voucher_recover(actor=operator, voucher=vouchers[target % len(vouchers)])
        return
    association = Association.objects.get(pk=world["associations"][target % 3].pk)
    if amount is None:
        amount = association.customer.allocated_balance if name == "recover" else Decimal("10.00")
    if name == "allocate":
        funds.funds_allocate(actor=operator, association=association, amount=amount, idempotency_key=token)
    elif name == "recover":
        funds.funds_recover(actor=operator, association=association, amount=amount, idempotency_key=token)
    elif name == "issue":
        funds.voucher_issue(
            actor=operator, association=association, amount=amount,
            expires_at=timezone.now() + timedelta(days=30), idempotency_key=token,
        )
    elif name == "recover_all":
        funds.vouchers_recover_all(actor=operator, association=association)
    elif name == "return_on_end":
        funds.balance_return_on_end(actor=None, association=association)
    elif name == "switch":
        # What the request flow does on a confirmed switch (SPEC §3.4).
        with transaction.atomic():
            if association.type == Association.Type.RESELLER:
                funds.balance_return_on_end(actor=operator, association=association)
                association.type = Association.Type.REFERRAL
            else:
                association.type = Association.Type.RESELLER
            association.save(update_fields=["type"])


def token_used_before(world, op) -> bool:
    """Whether ``op`` carries a token its partner already used for something that happened."""
    name, target, _amount, token = op
    if name not in ("top_up", "quota_top_up", "allocate", "recover", "issue") or token is None:
        return False
    if name in ("top_up", "quota_top_up"):
        partner_id = world["partners"][target % 2].pk
    else:
        partner_id = world["associations"][target % 3].partner_id
    key = f"{partner_id}:{token}"
    return LedgerEntry.objects.filter(idempotency_key=key).exists() or Voucher.objects.filter(
        idempotency_key=key
    ).exists()


@pytest.mark.django_db
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operations, min_size=10, max_size=40))
def test_money_is_never_created_or_lost(ops):
    with transaction.atomic():
        world = build_world(f.OperatorFactory(username="prop-operator"))
        for op in ops:
            before = state()
            repeated = token_used_before(world, op)
            try:
                apply(world, op)
            except ValidationError:
                assert state() == before, f"a refused {op} changed something"
            if repeated:
                assert state() == before, f"{op} reused a token and had a second effect"
            check_invariants(world)
        transaction.set_rollback(True)
