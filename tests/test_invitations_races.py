"""Races on invitations, with real threads on PostgreSQL: whatever arrives at the same moment,
there is exactly one outcome."""
from functools import partial

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from customers.invitations import services as services
from customers.models import Association, Customer, Invitation
from partnercenter import factories as f
from tests.races import run_at_once as at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 5


def codes(error):
    return {e.code for e in error.error_list}


def new_customer():
    return f.CustomerWithUserFactory(registered_at=timezone.now(), has_consumption=False)


def test_one_customer_accepting_two_partners_invitations_at_once_gets_one_association():
    acme, globex = f.PartnerFactory(), f.PartnerFactory()
    for _ in range(ROUNDS):
        customer = new_customer()
        tokens = [
            services.invitation_token(f.InvitationFactory(partner=p, email=customer.email)) for p in (acme, globex)
        ]
        results = at_once(*[partial(services.invitation_accept, actor=customer.user, token=t) for t in tokens])
        winners = [r for r in results if isinstance(r, Association)]
        losers = [r for r in results if isinstance(r, ValidationError)]
        assert len(winners) == 1 and len(losers) == 1, results
        assert codes(losers[0]) == {"associated"}
        assert Association.objects.filter(customer=customer, status="active").count() == 1
        statuses = sorted(Invitation.objects.filter(email=customer.email).values_list("status", flat=True))
        assert statuses == ["accepted", "sent"]


def test_two_customers_using_one_invitation_at_once_one_wins():
    partner = f.PartnerFactory()
    for _ in range(ROUNDS):
        invitation = f.InvitationFactory(partner=partner)
        token = services.invitation_token(invitation)
        first, second = new_customer(), new_customer()
        results = at_once(
            partial(services.invitation_accept, actor=first.user, token=token),
            partial(services.invitation_accept, actor=second.user, token=token),
        )
        winners = [r for r in results if isinstance(r, Association)]
        assert len(winners) == 1, results
        assert [type(r) for r in results if r not in winners] == [services.LinkUnusable]
        invitation.refresh_from_db()
        assert invitation.status == "accepted" and invitation.customer == winners[0].customer
        assert Association.objects.filter(customer__in=[first, second]).count() == 1


def test_accepting_while_the_partner_revokes_has_one_outcome():
    partner = f.PartnerFactory()
    member = f.MemberFactory(partner=partner, roles=[])
    for _ in range(ROUNDS):
        invitation = f.InvitationFactory(partner=partner)
        customer = new_customer()
        accepted, revoked = at_once(
            partial(services.invitation_accept, actor=customer.user, token=services.invitation_token(invitation)),
            partial(services.invitation_revoke, actor=member, invitation=invitation),
        )
        invitation.refresh_from_db()
        associated = Association.objects.filter(customer=customer).exists()
        if isinstance(accepted, Association):
            assert isinstance(revoked, ValidationError) and invitation.status == "accepted" and associated
        else:
            assert isinstance(accepted, services.LinkUnusable) and isinstance(revoked, Invitation)
            assert invitation.status == "revoked" and not associated


def test_accepting_while_the_partner_resends_has_one_outcome():
    partner = f.PartnerFactory()
    member = f.MemberFactory(partner=partner, roles=[])
    for n in range(ROUNDS):
        invitation = f.InvitationFactory(partner=partner)
        customer = new_customer()
        changed = f"changed-{n}@example.com"
        accepted, resent = at_once(
            partial(services.invitation_accept, actor=customer.user, token=services.invitation_token(invitation)),
            partial(
                services.invitation_resend, actor=member, invitation=invitation, email=changed, name="",
                language="en", base_url="http://testserver",
            ),
        )
        invitation.refresh_from_db()
        if isinstance(accepted, Association):
            assert isinstance(resent, ValidationError) and invitation.status == "accepted"
            assert not Invitation.objects.filter(email=changed).exists()
        else:
            assert isinstance(accepted, services.LinkUnusable) and isinstance(resent, Invitation)
            assert invitation.status == "superseded" and invitation.superseded_by == resent
            assert not Association.objects.filter(customer=customer).exists()


def test_concurrent_sends_never_exceed_the_daily_limit(settings):
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "INVITATIONS_PER_PARTNER_PER_DAY": 3}
    member = f.MemberFactory(roles=[])
    results = at_once(
        *[
            partial(
                services.invitation_send, actor=member, email=f"c{n}@example.com", type="referral", language="en",
                base_url="http://testserver",
            )
            for n in range(8)
        ]
    )
    assert sum(isinstance(r, Invitation) for r in results) == 3
    assert [codes(r) for r in results if isinstance(r, ValidationError)] == [{"daily_limit"}] * 5
    assert Invitation.objects.filter(partner=member.partner).count() == 3


def test_two_sign_ups_for_one_account_name_at_once_create_one_account():
    partner = f.PartnerFactory()
    for n in range(ROUNDS):
        results = at_once(
            *[
                partial(
                    services.customer_sign_up, account_name=f"race-{n}", name="Racer",
                    email=f"racer-{n}-{i}@example.com", password="Harbour-lantern-2026!", language="en",
                    partner=partner,
                )
                for i in range(2)
            ]
        )
        assert sum(isinstance(r, Customer) for r in results) == 1, results
        assert [codes(r) for r in results if isinstance(r, ValidationError)] == [{"taken"}]
        assert Customer.objects.filter(account_name=f"race-{n}").count() == 1
