"""Operation protection (SPEC R22): with it on, sensitive actions ask for the password again;
a confirmation holds for OPERATION_PROTECTION_MINUTES (10), then the password is asked again."""
import time
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import OperationRecord
from customers.models import Association, AssociationRequest, LedgerEntry
from organization.models import Partner
from organization.protection import PASSWORD_FIELD, SESSION_KEY
from partnercenter import factories as f

SENSITIVE = [
    "customers:funds_allocate_submit",
    "customers:funds_recover_submit",
    "customers:switch_submit",
    "customers:unbind_submit",
    "customers:request_approve",
]


@pytest.fixture
def protected(partner):
    Partner.objects.filter(pk=partner.pk).update(operation_protection=True, balance=Decimal("1000.00"))
    partner.refresh_from_db()
    return partner


@pytest.fixture
def allocate_url(customer):
    return reverse("customers:funds_allocate_submit", args=[customer.pk])


def allocation(amount="10.00"):
    return {"amount": amount, "token": uuid.uuid4().hex, "reason": "top up"}


def confirm_page(response) -> bool:
    return response.status_code == 200 and "organization/protection_confirm.html" in [
        t.name for t in response.templates
    ]


def age_confirmation(client, seconds):
    session = client.session
    session[SESSION_KEY] = time.time() - seconds
    session.save()


def test_without_protection_the_action_runs_at_once(as_user, admin_member, partner, customer, allocate_url):
    Partner.objects.filter(pk=partner.pk).update(balance=Decimal("1000.00"))
    response = as_user(admin_member).post(allocate_url, allocation())
    assert response.status_code == 302
    assert LedgerEntry.objects.filter(kind="allocation").count() == 1


def test_an_unconfirmed_action_asks_for_the_password_and_changes_nothing(
    as_user, admin_member, protected, customer, allocate_url
):
    response = as_user(admin_member).post(allocate_url, allocation("12.34"))
    assert confirm_page(response)
    body = response.content.decode()
    assert 'name="amount" value="12.34"' in body and f'name="{PASSWORD_FIELD}"' in body
    assert not LedgerEntry.objects.filter(kind="allocation").exists()
    protected.refresh_from_db()
    assert protected.balance == Decimal("1000.00")


def test_a_wrong_password_asks_again_and_changes_nothing(as_user, admin_member, protected, customer, allocate_url):
    response = as_user(admin_member).post(allocate_url, {**allocation(), PASSWORD_FIELD: "not-my-password"})
    assert confirm_page(response)
    assert "The password is not correct." in response.content.decode()
    assert not LedgerEntry.objects.filter(kind="allocation").exists()


def test_a_wrong_password_counts_towards_the_sign_in_lockout(as_user, admin_member, protected, customer, allocate_url):
    as_user(admin_member).post(allocate_url, {**allocation(), PASSWORD_FIELD: "guess"})
    assert AccessAttempt.objects.get(username=admin_member.username).failures_since_start == 1


def test_the_right_password_runs_what_was_first_submitted(as_user, admin_member, protected, customer, allocate_url):
    client = as_user(admin_member)
    first = allocation("12.34")
    asked = client.post(allocate_url, first)
    assert confirm_page(asked)
    response = client.post(allocate_url, {**first, PASSWORD_FIELD: f.DEFAULT_PASSWORD})
    assert response.status_code == 302
    entry = LedgerEntry.objects.get(kind="allocation")
    assert entry.amount == Decimal("12.34") and entry.idempotency_key.endswith(first["token"])


def test_a_confirmation_holds_for_ten_minutes(as_user, admin_member, protected, customer, allocate_url):
    client = as_user(admin_member)
    client.post(allocate_url, {**allocation(), PASSWORD_FIELD: f.DEFAULT_PASSWORD})
    age_confirmation(client, 10 * 60 - 5)
    response = client.post(allocate_url, allocation())
    assert response.status_code == 302
    assert LedgerEntry.objects.filter(kind="allocation").count() == 2


def test_after_ten_minutes_the_password_is_asked_again(as_user, admin_member, protected, customer, allocate_url):
    client = as_user(admin_member)
    client.post(allocate_url, {**allocation(), PASSWORD_FIELD: f.DEFAULT_PASSWORD})
    age_confirmation(client, 10 * 60 + 1)
    assert confirm_page(client.post(allocate_url, allocation()))
    assert LedgerEntry.objects.filter(kind="allocation").count() == 1


def test_the_time_a_confirmation_holds_is_a_setting(
    as_user, admin_member, protected, customer, allocate_url, settings
):
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "OPERATION_PROTECTION_MINUTES": 1}
    client = as_user(admin_member)
    client.post(allocate_url, {**allocation(), PASSWORD_FIELD: f.DEFAULT_PASSWORD})
    age_confirmation(client, 61)
    assert confirm_page(client.post(allocate_url, allocation()))


def test_a_confirmation_covers_only_its_own_session(admin_member, protected, customer, allocate_url):
    here, elsewhere = Client(), Client()
    for client in (here, elsewhere):
        client.force_login(admin_member, backend="organization.backends.RolePermissionBackend")
    here.post(allocate_url, {**allocation(), PASSWORD_FIELD: f.DEFAULT_PASSWORD})
    assert confirm_page(elsewhere.post(allocate_url, allocation()))


def test_pages_that_only_show_are_not_asked(as_user, admin_member, protected, customer):
    response = as_user(admin_member).get(reverse("customers:funds_allocate", args=[customer.pk]))
    assert response.status_code == 200 and not confirm_page(response)


@pytest.mark.parametrize("name", SENSITIVE)
def test_every_sensitive_action_asks_for_the_password(as_user, admin_member, protected, customer, name):
    association = Association.objects.get(customer=customer)
    pk = customer.pk
    if name == "customers:request_approve":
        pk = AssociationRequest.objects.create(
            association=association, kind="dissociation", reason="leaving", requested_by=customer.user,
            deadline=timezone.now() + timedelta(days=7),
        ).pk
    response = as_user(admin_member).post(reverse(name, args=[pk]), {"reason": "why", "consent": "on"})
    assert confirm_page(response)
    association.refresh_from_db()
    assert association.is_active
    assert AssociationRequest.objects.exclude(kind="dissociation").count() == 0
    assert not AssociationRequest.objects.exclude(status="pending").exists()


def test_turning_protection_off_is_itself_protected(as_user, admin_member, protected):
    client = as_user(admin_member)
    asked = client.post(reverse("organization:settings"), {})
    assert confirm_page(asked)
    protected.refresh_from_db()
    assert protected.operation_protection is True
    client.post(reverse("organization:settings"), {PASSWORD_FIELD: f.DEFAULT_PASSWORD})
    protected.refresh_from_db()
    assert protected.operation_protection is False


def test_turning_protection_on_is_recorded(as_user, admin_member, partner):
    response = as_user(admin_member).post(reverse("organization:settings"), {"operation_protection": "on"})
    assert response.status_code == 302
    partner.refresh_from_db()
    assert partner.operation_protection is True
    record = OperationRecord.objects.get(event="organization.settings_updated")
    assert record.before == {"operation_protection": False} and record.after == {"operation_protection": True}
