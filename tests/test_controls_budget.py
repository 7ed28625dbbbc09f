"""Monthly budgets of reseller customers and the usage the vendor's billing posts (issue 20,
Build 2; SPEC R31)."""
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from api import services as api_services
from audit.models import OperationRecord
from customers import services as customer_services
from customers.controls import services as controls
from customers.models import Association, BudgetChange, Customer, PartnerControls, UsagePosting
from notifications.models import OutgoingEmail
from partnercenter import factories as f

BILLING_KEY = "billing-test-key-0123456789"


def association_of(customer) -> Association:
    return Association.objects.select_related("partner", "customer").get(
        customer=customer, status=Association.Status.ACTIVE
    )


def budget(actor, customer, amount, **kwargs):
    return controls.customer_budget_set(actor=actor, association=association_of(customer), amount=Decimal(amount),
                                        **kwargs)


def usage(customer, amount, **kwargs):
    return controls.customer_usage_post(actor=None, customer=Customer.objects.get(pk=customer.pk),
                                        amount=Decimal(amount), **kwargs)


def events() -> list[str]:
    return list(OperationRecord.objects.order_by("id").values_list("event", flat=True))


def test_setting_a_budget_keeps_its_history(admin_member, customer):
    budget(admin_member, customer, "100.00", reason="first")
    budget(admin_member, customer, "250.50", reason="raise")
    history = list(BudgetChange.objects.filter(customer=customer).order_by("id"))
    assert [(h.old_budget, h.new_budget, h.reason) for h in history] == [
        (None, Decimal("100.00"), "first"), (Decimal("100.00"), Decimal("250.50"), "raise"),
    ]
    assert history[1].actor == admin_member and history[1].created_at is not None
    assert Customer.objects.get(pk=customer.pk).monthly_budget == Decimal("250.50")
    assert events() == ["customer.budget_set", "customer.budget_set"]


@pytest.mark.parametrize("amount", ["0", "-5", "1.001", "10000000.01"])
def test_a_bad_budget_is_refused_and_changes_nothing(admin_member, customer, amount):
    with pytest.raises(ValidationError):
        budget(admin_member, customer, amount)
    assert Customer.objects.get(pk=customer.pk).monthly_budget is None and not OperationRecord.objects.exists()


def test_referral_customers_have_no_budget(admin_member, partner):
    referral = f.CustomerWithUserFactory(account_name="ref-b")
    f.AssociationFactory(partner=partner, customer=referral, type=Association.Type.REFERRAL)
    with pytest.raises(ValidationError, match="only to reseller customers"):
        budget(admin_member, referral, "10.00")
    assert not BudgetChange.objects.exists()


def test_usage_counts_towards_the_month_and_a_new_month_starts_from_zero(customer):
    usage(customer, "10.00", at=datetime(2026, 11, 30, 12, tzinfo=UTC))
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    # A posting of last month does not count for this month.
    customer.refresh_from_db()
    assert controls.month_to_date(customer, now) == Decimal("0.00")


def test_the_month_begins_in_the_customers_time_zone(customer):
    customer.user.time_zone = "Asia/Shanghai"
    customer.user.save()
    customer.refresh_from_db()
    # 17:00 UTC on 30 November is 01:00 on 1 December in Shanghai.
    assert controls.month_of(customer, datetime(2026, 11, 30, 17, tzinfo=UTC)).isoformat() == "2026-12-01"
    customer.user.time_zone = ""
    customer.user.save()
    customer.refresh_from_db()
    assert controls.month_of(customer, datetime(2026, 11, 30, 17, tzinfo=UTC)).isoformat() == "2026-11-01"


def test_80_and_100_percent_notify_the_partner_once_each(admin_member, customer):
    budget(admin_member, customer, "100.00")
    usage(customer, "50.00")
    assert "customer.budget_80" not in events()
    usage(customer, "30.00")
    usage(customer, "5.00")
    assert events().count("customer.budget_80") == 1
    usage(customer, "15.00")
    assert events().count("customer.budget_100") == 1
    mails = OutgoingEmail.objects.filter(kind="budget_threshold", recipient=admin_member.email)
    assert mails.count() == 2
    # Not frozen: the partner did not choose freezing on exhaustion.
    assert not Customer.objects.get(pk=customer.pk).frozen


def test_at_100_percent_a_partner_that_chose_so_has_the_account_frozen_by_the_system(admin_member, customer,
                                                                                      partner):
    PartnerControls.objects.create(partner=partner, freeze_on_exhaustion=True)
    budget(admin_member, customer, "100.00")
    usage(customer, "100.00")
    customer.refresh_from_db()
    assert customer.frozen and customer.frozen_source == "partner" and customer.frozen_by is None
    frozen = OperationRecord.objects.get(event="customer.frozen")
    assert frozen.actor_kind == "system"
    assert OutgoingEmail.objects.filter(kind="account_freeze", recipient=customer.email).count() == 1
    # A budget with room lifts the freeze the exhaustion caused, in the same step.
    budget(admin_member, customer, "200.00")
    customer.refresh_from_db()
    assert not customer.frozen
    assert events()[-2:] == ["customer.budget_set", "customer.unfrozen"]


def test_a_higher_budget_does_not_lift_a_members_freeze_unless_asked(admin_member, customer):
    budget(admin_member, customer, "100.00")
    controls.customer_freeze(actor=admin_member, association=association_of(customer), reason="manual")
    budget(admin_member, customer, "200.00")
    assert Customer.objects.get(pk=customer.pk).frozen
    budget(admin_member, customer, "300.00", unfreeze=True)
    assert not Customer.objects.get(pk=customer.pk).frozen


def test_a_partner_that_chose_so_has_new_reseller_customers_start_frozen_until_their_first_budget(
    admin_member, partner
):
    PartnerControls.objects.create(partner=partner, start_frozen_until_budget=True)
    newcomer = f.CustomerWithUserFactory(account_name="newcomer")
    from django.db import transaction

    with transaction.atomic():
        customer_services.association_create(actor=None, partner=partner, customer=newcomer, type="reseller",
                                             origin="api")
    newcomer.refresh_from_db()
    assert newcomer.frozen and newcomer.frozen_source == "partner"
    budget(admin_member, newcomer, "50.00")
    assert not Customer.objects.get(pk=newcomer.pk).frozen


def test_without_the_setting_new_reseller_customers_are_not_frozen(partner):
    newcomer = f.CustomerWithUserFactory(account_name="newcomer2")
    from django.db import transaction

    with transaction.atomic():
        customer_services.association_create(actor=None, partner=partner, customer=newcomer, type="reseller",
                                             origin="api")
    assert not Customer.objects.get(pk=newcomer.pk).frozen


def test_a_billing_reference_counts_once(customer):
    first = usage(customer, "5.00", reference="bill-1")
    again = usage(customer, "5.00", reference="bill-1")
    assert again.replayed and again.pk == first.pk
    assert Customer.objects.get(pk=customer.pk).month_spend == Decimal("5.00")
    with pytest.raises(ValidationError):
        usage(customer, "6.00", reference="bill-1")


def test_the_customer_page_list_and_account_center_show_spend_against_budget(as_user, admin_member, customer, client):
    budget(admin_member, customer, "200.00")
    usage(customer, "170.00")
    member = as_user(admin_member)
    detail = member.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "85 % of the budget" in detail
    listing = member.get(reverse("customers:list")).content.decode()
    assert "85 %" in listing
    assert customer.account_name in member.get(reverse("customers:list") + "?budget_used=80").content.decode()
    assert customer.account_name not in member.get(reverse("customers:list") + "?budget_used=100").content.decode()
    client.force_login(customer.user)
    assert "85 % of the budget" in client.get(reverse("account_center:home")).content.decode()


def test_the_budget_page_sets_the_budget(as_user, admin_member, customer):
    response = as_user(admin_member).post(reverse("customers:controls_budget_submit", args=[customer.pk]),
                                          {"amount": "75.00", "reason": "web"})
    assert response.status_code == 302
    assert Customer.objects.get(pk=customer.pk).monthly_budget == Decimal("75.00")


def test_an_operator_posts_usage_in_the_admin(operator, customer, client):
    client.force_login(operator, backend="organization.backends.RolePermissionBackend")
    response = client.post(reverse("admin:customers_usageposting_add"),
                           {"customer": customer.pk, "amount": "12.34", "reference": "op-1"})
    assert response.status_code == 302
    assert UsagePosting.objects.get().amount == Decimal("12.34")
    record = OperationRecord.objects.get(event="customer.usage_posted")
    assert record.actor_kind == "operator"
    assert Customer.objects.get(pk=customer.pk).month_spend == Decimal("12.34")


def test_the_billing_system_posts_usage_through_the_api(settings, customer, admin_member):
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "BILLING_API_KEY": BILLING_KEY}
    client = Client()
    url = f"/api/v1/billing/customers/{customer.pk}/usage"
    body = json.dumps({"amount": "3.00", "reference": "api-1"})
    response = client.post(url, data=body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {BILLING_KEY}")
    assert response.status_code == 201 and response.json()["replayed"] is False
    response = client.post(url, data=body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {BILLING_KEY}")
    assert response.status_code == 200 and response.json()["replayed"] is True
    assert Customer.objects.get(pk=customer.pk).month_spend == Decimal("3.00")
    token = api_services.partner_token_create(member=admin_member)[1]
    response = client.post(url, data=body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 403


def test_without_a_configured_key_the_billing_operation_is_closed(settings, customer):
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "BILLING_API_KEY": ""}
    response = Client().post(f"/api/v1/billing/customers/{customer.pk}/usage", data=json.dumps({"amount": "3.00"}),
                             content_type="application/json", HTTP_AUTHORIZATION="Bearer anything")
    assert response.status_code == 401 and not UsagePosting.objects.exists()


def test_the_api_sets_a_budget_and_reads_the_controls(admin_member, customer):
    token = api_services.partner_token_create(member=admin_member)[1]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.post(f"/api/v1/customers/{customer.pk}/budget", data=json.dumps({"amount": "40.00"}),
                           content_type="application/json")
    assert response.status_code == 200 and response.json()["monthly_budget"] == "40.00"
    response = client.get(f"/api/v1/customers/{customer.pk}/controls")
    assert response.json()["budget_used_percent"] == 0


def test_a_distributor_cannot_budget_its_resellers_customer_on_the_page_or_the_api(client, db):
    from tests.test_controls_freeze import reseller_setup

    _distributor, _reseller, customer, dist_admin, _res_admin = reseller_setup(granted=True)
    client.force_login(dist_admin, backend="organization.backends.RolePermissionBackend")
    assert client.get(reverse("customers:controls_budget", args=[customer.pk])).status_code == 404
    response = client.post(reverse("customers:controls_budget_submit", args=[customer.pk]), {"amount": "40.00"})
    assert response.status_code == 404
    token = api_services.partner_token_create(member=dist_admin)[1]
    response = client.post(f"/api/v1/customers/{customer.pk}/budget", data=json.dumps({"amount": "40.00"}),
                           content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert Customer.objects.get(pk=customer.pk).monthly_budget is None and not BudgetChange.objects.exists()


def test_the_controls_settings_page_saves_the_two_settings(as_user, admin_member, partner):
    response = as_user(admin_member).post(reverse("customers:controls_settings"),
                                          {"start_frozen_until_budget": "on", "freeze_on_exhaustion": "on"})
    assert response.status_code == 302
    row = PartnerControls.objects.get(partner=partner)
    assert row.start_frozen_until_budget and row.freeze_on_exhaustion
