"""Eligibility at acceptance (SPEC R3): every rule fails with its own message and advice for
the types it guards, stays silent for the others, and refuses the acceptance with nothing
changed."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import OperationRecord
from customers import invitations as services
from customers.eligibility import RULES, NotEligible, eligibility_failures
from customers.models import Association, Customer, Invitation
from partnercenter import factories as f

BOTH = ("referral", "reseller")
RESELLER = ("reseller",)


def fresh_customer(**facts):
    return f.CustomerWithUserFactory(registered_at=timezone.now() - timedelta(days=1), has_consumption=False, **facts)


def special_contract():
    return fresh_customer(special_contract=True)


def arrears():
    return fresh_customer(arrears=Decimal("12.50"))


def hosted_sub():
    master = f.CustomerFactory(enterprise_role=Customer.EnterpriseRole.MASTER)
    return fresh_customer(
        enterprise_role=Customer.EnterpriseRole.SUB, enterprise_master=master, financially_hosted=True
    )


def unhosted_sub():
    master = f.CustomerFactory(enterprise_role=Customer.EnterpriseRole.MASTER)
    return fresh_customer(enterprise_role=Customer.EnterpriseRole.SUB, enterprise_master=master)


def reserved_instances():
    c = fresh_customer()
    f.ReservedInstanceFactory(customer=c)
    return c


def invoice_owed():
    return fresh_customer(invoice_owed=True)


def master_with_unhosted_subs():
    master = fresh_customer(enterprise_role=Customer.EnterpriseRole.MASTER)
    f.CustomerFactory(enterprise_role=Customer.EnterpriseRole.SUB, enterprise_master=master, financially_hosted=True)
    f.CustomerFactory(enterprise_role=Customer.EnterpriseRole.SUB, enterprise_master=master)
    return master


def associated_elsewhere():
    c = fresh_customer()
    f.AssociationFactory(customer=c, partner=f.PartnerFactory(name="Initech"))
    return c


# code, how to make a customer fail it, the types it guards, its message, its advice
CASES = [
    ("associated", associated_elsewhere, BOTH, "already associated with Initech", "Dissociate from Initech"),
    ("special_contract", special_contract, BOTH, "effective special contract", "ecosystem manager"),
    ("arrears", arrears, BOTH, "in arrears (12.50)", "Top up your account"),
    ("enterprise.hosted_sub", hosted_sub, BOTH, "financially hosted sub-account", "accepted by the master"),
    ("reserved_instances", reserved_instances, RESELLER, "unexpired reserved instances", "Unsubscribe"),
    ("invoice_owed", invoice_owed, RESELLER, "invoice is owed", "Settle the owed invoice"),
    (
        "enterprise.master_with_unhosted_subs", master_with_unhosted_subs, RESELLER,
        "sub-accounts that are not financially hosted", "Remove those sub-accounts",
    ),
    ("enterprise.unhosted_sub", unhosted_sub, RESELLER, "sub-account that is not financially hosted", "Leave the"),
]
IDS = [case[0] for case in CASES]


def codes(customer, type, origin="invitation"):
    return [failure.code for failure in eligibility_failures(customer, type=type, origin=origin)]


def test_every_rule_in_the_registry_has_a_case_here():
    assert {r.code for r in RULES} == {*IDS, "public_link.new_account"}


@pytest.mark.parametrize("code, make, types, message, advice", CASES, ids=IDS)
def test_each_rule_fails_with_its_own_message_and_advice(db, code, make, types, message, advice):
    customer = make()
    for type in types:
        for origin in ("invitation", "public_link"):
            [failure] = eligibility_failures(customer, type=type, origin=origin)
            assert failure.code == code
            assert message in failure.message and advice in failure.advice


@pytest.mark.parametrize("code, make, types, message, advice", CASES, ids=IDS)
def test_each_rule_stays_silent_for_the_types_it_does_not_guard(db, code, make, types, message, advice):
    customer = make()
    for type in set(BOTH) - set(types):
        assert codes(customer, type) == []


@pytest.mark.parametrize("code, make, types, message, advice", CASES, ids=IDS)
def test_accepting_is_refused_with_the_message_and_nothing_changes(db, code, make, types, message, advice):
    customer = make()
    partner = f.PartnerFactory(name="Acme Cloud")
    invitation = f.InvitationFactory(partner=partner, type=types[0])
    client = Client()
    client.force_login(customer.user, backend="organization.backends.RolePermissionBackend")
    url = reverse("account_center:invitation", args=[services.invitation_token(invitation)])
    page = client.get(url)
    assert f'data-code="{code}"'.encode() in page.content
    assert b"/accept/" not in page.content
    response = client.post(url + "accept/")
    assert response.status_code == 200
    assert any(message in error and advice in error for error in response.context["errors"])
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.SENT
    assert not Association.objects.filter(partner=partner).exists()
    assert not OperationRecord.objects.exists()


def test_a_clean_new_account_passes_for_both_types(db):
    customer = fresh_customer()
    for type in BOTH:
        for origin in ("invitation", "public_link"):
            assert codes(customer, type, origin) == []


def test_every_failure_is_listed_not_only_the_first(db):
    customer = fresh_customer(special_contract=True, arrears=Decimal("1.00"), invoice_owed=True)
    assert codes(customer, "reseller") == ["special_contract", "arrears", "invoice_owed"]
    with pytest.raises(NotEligible) as refused:
        services.invitation_accept(
            actor=customer.user, token=services.invitation_token(f.InvitationFactory(type="reseller"))
        )
    assert [failure.code for failure in refused.value.failures] == ["special_contract", "arrears", "invoice_owed"]
    assert len(refused.value.messages) == 3


def test_expired_reserved_instances_do_not_count(db):
    customer = fresh_customer()
    f.ReservedInstanceFactory(customer=customer, expires_at=timezone.now() - timedelta(minutes=1))
    assert codes(customer, "reseller") == []


def test_a_master_whose_subs_are_all_hosted_passes(db):
    master = fresh_customer(enterprise_role=Customer.EnterpriseRole.MASTER)
    f.CustomerFactory(enterprise_role=Customer.EnterpriseRole.SUB, enterprise_master=master, financially_hosted=True)
    assert codes(master, "reseller") == []


def test_an_ended_association_does_not_count(db):
    customer = fresh_customer()
    f.AssociationFactory(customer=customer, status="ended", ended_at=timezone.now(), end_reason="unbind")
    assert codes(customer, "referral") == []


@pytest.mark.parametrize(
    "registered_days_ago, has_consumption, fails",
    [(1, False, False), (6.9, False, False), (7.1, False, True), (1, True, True), (400, True, True)],
)
def test_the_public_link_is_for_new_accounts_only(db, registered_days_ago, has_consumption, fails):
    customer = f.CustomerWithUserFactory(
        registered_at=timezone.now() - timedelta(days=registered_days_ago), has_consumption=has_consumption
    )
    expected = ["public_link.new_account"] if fails else []
    assert codes(customer, "referral", "public_link") == expected
    assert codes(customer, "referral", "invitation") == []
    if fails:
        [failure] = eligibility_failures(customer, type="referral", origin="public_link")
        assert failure.message == "The account must be a new account created within 7 days."
        assert "personal invitation" in failure.advice


def test_the_check_is_re_run_at_acceptance_not_taken_from_the_page(db):
    customer = fresh_customer()
    invitation = f.InvitationFactory(type="reseller")
    client = Client()
    client.force_login(customer.user, backend="organization.backends.RolePermissionBackend")
    url = reverse("account_center:invitation", args=[services.invitation_token(invitation)])
    assert b"/accept/" in client.get(url).content
    Customer.objects.filter(pk=customer.pk).update(invoice_owed=True)
    response = client.post(url + "accept/")
    assert response.status_code == 200 and "invoice is owed" in response.context["errors"][0]
    assert not Association.objects.exists()


def test_failures_are_shown_in_the_customers_language(db):
    customer = fresh_customer(arrears=Decimal("3.00"))
    invitation = f.InvitationFactory()
    client = Client()
    client.force_login(customer.user, backend="organization.backends.RolePermissionBackend")
    url = reverse("account_center:invitation", args=[services.invitation_token(invitation)])
    body = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "欠费" in body
