"""A freeze and the customer's agreement to an unbind, at the same moment on one customer, on
PostgreSQL with real threads (issue 20): they end in one consistent state with records to match.
Either the freeze wins (the account is frozen, and the agreement is refused by the account
check's ``customer.frozen`` under the lock) or the unbind wins (the association ends, and the
freeze is refused because the customer is no longer associated)."""
import pytest

from audit.models import OperationRecord
from customers.controls import services as controls
from customers.models import Association, Customer
from customers.requests import services as requests
from partnercenter import factories as f
from tests.test_requests_races import refused, run_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 5


def count(event, customer) -> int:
    return OperationRecord.objects.filter(event=event, customer=customer).count()


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_a_freeze_and_an_unbind_agreement_at_once_end_in_one_consistent_state(round_):
    partner = f.PartnerFactory(account_name=f"race-freeze-{round_}")
    member = f.MemberFactory(partner=partner, member_name="admin", roles=[])
    customer = f.CustomerWithUserFactory(account_name=f"race-cust-{round_}")
    association = f.AssociationFactory(partner=partner, customer=customer, type=Association.Type.RESELLER)
    unbind = requests.request_submit(actor=member, association=association, kind="unbind", reason="race")

    def freeze():
        fresh = Association.objects.select_related("partner", "customer").get(pk=association.pk)
        return controls.customer_freeze(actor=member, association=fresh, reason="race")

    def agree():
        return requests.request_confirm(actor=customer.user, association_request=unbind)

    frozen_outcome, agreed_outcome = run_at_once(freeze, agree)
    customer.refresh_from_db()
    association.refresh_from_db()
    assert refused(frozen_outcome) != refused(agreed_outcome), (frozen_outcome, agreed_outcome)
    if refused(agreed_outcome):
        assert customer.frozen and association.status == Association.Status.ACTIVE
        assert count("customer.frozen", customer) == 1 and count("association.ended", customer) == 0
    else:
        assert not customer.frozen and association.status == Association.Status.ENDED
        assert count("customer.frozen", customer) == 0 and count("association.ended", customer) == 1
    assert Customer.objects.filter(pk=customer.pk, frozen=True).count() == int(customer.frozen)


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_a_batch_freeze_and_an_unbind_agreement_at_once_agree_with_the_batch_row(round_):
    from customers.controls import batches
    from customers.models import BatchRow

    partner = f.PartnerFactory(account_name=f"race-batch-{round_}")
    member = f.MemberFactory(partner=partner, member_name="admin", roles=[], is_partner_admin=True)
    customer = f.CustomerWithUserFactory(account_name=f"race-bcust-{round_}")
    association = f.AssociationFactory(partner=partner, customer=customer, type=Association.Type.RESELLER)
    unbind = requests.request_submit(actor=member, association=association, kind="unbind", reason="race")
    # Rights are the batch's own check: give the member the freeze permission directly.
    from django.contrib.auth.models import Permission

    from organization.models import Role

    role = Role.objects.create(partner=partner, name="Freezer")
    role.permissions.set([Permission.objects.get(codename="freeze_customers")])
    member.roles.set([role])
    batch = batches.batch_create(actor=member, action="freeze", customer_ids=[customer.pk], reason="race")

    _ran, agreed_outcome = run_at_once(
        lambda: batches.batch_run(batch_id=batch.pk),
        lambda: requests.request_confirm(actor=customer.user, association_request=unbind),
    )
    customer.refresh_from_db()
    association.refresh_from_db()
    row = BatchRow.objects.get(batch=batch)
    if row.outcome == BatchRow.Outcome.CHANGED:
        assert refused(agreed_outcome) and customer.frozen and association.status == Association.Status.ACTIVE
        assert count("customer.frozen", customer) == 1 and count("association.ended", customer) == 0
    else:
        assert row.outcome == BatchRow.Outcome.REFUSED and row.message
        assert not refused(agreed_outcome) and not customer.frozen
        assert association.status == Association.Status.ENDED
        assert count("customer.frozen", customer) == 0 and count("association.ended", customer) == 1


def _budget_batch(prefix: str, rows: int):
    from decimal import Decimal

    from customers.controls import batches

    partner = f.PartnerFactory(account_name=f"{prefix}-partner")
    member = f.MemberFactory(partner=partner, member_name="admin", roles=["system_admin"], is_partner_admin=True)
    made = []
    for i in range(rows):
        c = f.CustomerFactory(account_name=f"{prefix}-{i}")
        kind = Association.Type.REFERRAL if i % 5 == 0 else Association.Type.RESELLER
        f.AssociationFactory(partner=partner, customer=c, type=kind)
        made.append(c)
    return batches.batch_create(actor=member, action="budget", customer_ids=[c.pk for c in made],
                                amount=Decimal("123.45"), reason="pool")


@pytest.mark.parametrize("processes", [False, True], ids=["threads", "processes"])
def test_a_batch_on_a_pool_of_connections_applies_every_row_once(processes):
    from customers.controls import batches
    from customers.models import Batch, BatchRow, BudgetChange

    batch = _budget_batch(f"pool-{processes}", 30)
    assert batches.batch_run(batch_id=batch.pk, workers=4, processes=processes) == 30
    batch.refresh_from_db()
    assert batch.status == Batch.Status.DONE
    rows = BatchRow.objects.filter(batch=batch)
    assert rows.filter(outcome="changed").count() == 24 and rows.filter(outcome="refused").count() == 6
    assert OperationRecord.objects.filter(event="customer.budget_set").count() == 24
    assert BudgetChange.objects.count() == 24


def test_two_runs_of_one_batch_at_once_apply_each_row_once():
    """A resumed batch whose first worker was not dead after all: both runs on their pools,
    every row applied by exactly one of them (the row is settled first, under its lock)."""
    from customers.controls import batches
    from customers.models import BatchRow, BudgetChange

    batch = _budget_batch("twice", 40)
    first, second = run_at_once(
        lambda: batches.batch_run(batch_id=batch.pk, workers=3),
        lambda: batches.batch_run(batch_id=batch.pk, workers=3),
    )
    assert first + second >= 40  # each run counts the rows it looked at, settled by it or the other
    assert not isinstance(first, Exception) and not isinstance(second, Exception), (first, second)
    assert not BatchRow.objects.filter(batch=batch, outcome="pending").exists()
    assert OperationRecord.objects.filter(event="customer.budget_set").count() == 32
    assert BudgetChange.objects.count() == 32
    assert BudgetChange.objects.values("customer").distinct().count() == 32
