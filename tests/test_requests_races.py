"""Association requests under concurrency, on PostgreSQL with real threads (R9): whatever runs at
once on one association, exactly one action wins, the other is refused with a message, and the
effects and operation records happen once."""
from datetime import timedelta
from decimal import Decimal
from functools import partial

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from audit.events import Event
from audit.models import OperationRecord
from customers.funds import services as funds
from customers.models import Association, AssociationRequest, LedgerEntry, Voucher
from customers.requests import services as services
from partnercenter import factories as f
from tests.races import run_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 5
Kind = AssociationRequest.Kind
Status = AssociationRequest.Status


def refused(outcome) -> bool:
    return isinstance(outcome, ValidationError)


def count(event, **filters) -> int:
    return OperationRecord.objects.filter(event=event, **filters).count()


@pytest.fixture
def operator():
    return f.OperatorFactory(username="race-operator")


@pytest.fixture
def partner(operator):
    partner = f.PartnerFactory(account_name="race-partner")
    funds.partner_top_up(actor=operator, partner=partner, amount=Decimal("1000.00"))
    funds.voucher_quota_top_up(actor=operator, partner=partner, amount=Decimal("500.00"))
    return partner


@pytest.fixture
def member(partner):
    # No role: the services do not read permissions, and the built-in roles of the data
    # migration are gone once a transactional test has flushed the database.
    return f.MemberFactory(partner=partner, member_name="admin", roles=[])


@pytest.fixture
def make_association(partner):
    def make(type_=Association.Type.RESELLER):
        customer = f.CustomerWithUserFactory()
        return Association.objects.select_related("partner", "customer").get(
            pk=f.AssociationFactory(partner=partner, customer=customer, type=type_).pk
        )

    return make


def funded(association):
    funds.funds_allocate(actor=None, association=association, amount=Decimal("40.00"))
    funds.voucher_issue(
        actor=None, association=association, amount=Decimal("15.00"), expires_at=timezone.now() + timedelta(days=30)
    )
    return association


def test_the_customer_agreeing_while_the_partner_cancels_has_exactly_one_winner(make_association, member):
    winners = set()
    for _ in range(ROUNDS):
        association = make_association()
        request = services.request_submit(actor=member, association=association, kind=Kind.UNBIND, reason="race")
        agree, cancel = run_at_once(
            partial(services.request_confirm, actor=association.customer.user, association_request=request),
            partial(services.request_cancel, actor=member, association_request=request),
        )
        assert [refused(agree), refused(cancel)].count(True) == 1, (agree, cancel)
        request.refresh_from_db()
        association.refresh_from_db()
        if refused(cancel):
            winners.add("agree")
            assert request.status == Status.CONFIRMED and association.status == Association.Status.ENDED
            assert count(Event.ASSOCIATION_ENDED, association=association) == 1
            assert cancel.error_list[0].code == "stale"
        else:
            winners.add("cancel")
            assert request.status == Status.CANCELLED and association.is_active
            assert count(Event.ASSOCIATION_ENDED, association=association) == 0
            assert agree.error_list[0].code == "stale"
        assert count(Event.REQUEST_CONFIRMED, association_request=request) + count(
            Event.REQUEST_CANCELLED, association_request=request
        ) == 1
    assert winners  # at least one round ran to a decision


def test_two_submits_of_the_same_request_make_one_request(make_association, member):
    for _ in range(ROUNDS):
        association = make_association()
        submit = partial(services.request_submit, actor=member, association=association, kind=Kind.SWITCH, reason="x")
        outcomes = run_at_once(*[submit] * 4)
        assert sum(not refused(o) for o in outcomes) == 1, outcomes
        assert all(isinstance(o, (AssociationRequest, ValidationError)) for o in outcomes), outcomes
        assert AssociationRequest.objects.filter(association=association).count() == 1
        assert count(Event.REQUEST_SUBMITTED, association=association) == 1


def test_a_partner_unbind_and_a_customer_dissociation_at_once_leave_one_pending_request(make_association, member):
    for _ in range(ROUNDS):
        association = make_association()
        unbind, dissociation = run_at_once(
            partial(services.request_submit, actor=member, association=association, kind=Kind.UNBIND, reason="x"),
            partial(
                services.request_submit_dissociation,
                actor=association.customer.user,
                association=association,
                reason="y",
            ),
        )
        assert [refused(unbind), refused(dissociation)].count(True) == 1, (unbind, dissociation)
        assert AssociationRequest.objects.filter(association=association, status=Status.PENDING).count() == 1


def test_approval_racing_the_automatic_approval_has_one_outcome(make_association, member, partner):
    outcomes = set()
    for _ in range(ROUNDS):
        association = funded(make_association())
        request = services.request_submit_dissociation(
            actor=association.customer.user, association=association, reason="leaving"
        )
        # The partner approves just before the deadline while the job runs just after it.
        AssociationRequest.objects.filter(pk=request.pk).update(deadline=timezone.now() + timedelta(seconds=30))
        request.refresh_from_db()
        approve, expire = run_at_once(
            partial(services.request_approve, actor=member, association_request=request),
            partial(services.request_expire_due, now=request.deadline + timedelta(seconds=1)),
        )
        request.refresh_from_db()
        association.refresh_from_db()
        assert request.status in (Status.APPROVED, Status.AUTO_APPROVED)
        outcomes.add(request.status)
        if request.status == Status.APPROVED:
            assert expire == []
        else:
            assert refused(approve) and approve.error_list[0].code == "stale"
        assert association.status == Association.Status.ENDED
        assert count(Event.ASSOCIATION_ENDED, association=association) == 1
        assert count(Event.REQUEST_APPROVED, association_request=request) + count(
            Event.REQUEST_AUTO_APPROVED, association_request=request
        ) == 1
        assert LedgerEntry.objects.filter(customer=association.customer, kind="returned_on_end").count() == 1
        assert Voucher.objects.filter(customer=association.customer, status="recovered").count() == 1
    partner.refresh_from_db()
    assert partner.balance == Decimal("1000.00")
    assert partner.voucher_quota == Decimal("500.00")
    assert outcomes


def test_a_double_click_on_agree_has_one_effect(make_association, member, partner):
    association = funded(make_association())
    request = services.request_submit(actor=member, association=association, kind=Kind.SWITCH, reason="x")
    outcomes = run_at_once(
        *[partial(services.request_confirm, actor=association.customer.user, association_request=request)] * 3
    )
    assert sum(not refused(o) for o in outcomes) == 1, outcomes
    association.refresh_from_db()
    assert association.type == Association.Type.REFERRAL
    assert count(Event.ASSOCIATION_SWITCHED, association=association) == 1
    assert LedgerEntry.objects.filter(customer=association.customer, kind="returned_on_end").count() == 1
    partner.refresh_from_db()
    assert partner.balance == Decimal("1000.00")
