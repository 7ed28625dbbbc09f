"""Freezing and unfreezing a reseller customer's account (issue 20, Build 1; SPEC R30)."""
import json

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse

from api import services as api_services
from audit.models import OperationRecord
from customers.checks import run_checks
from customers.controls import services as controls
from customers.models import Association, Customer, PartnerControls
from notifications.models import OutgoingEmail
from partnercenter import factories as f


def association_of(customer) -> Association:
    return Association.objects.select_related("partner", "customer").get(
        customer=customer, status=Association.Status.ACTIVE
    )


def reseller_setup(*, granted: bool):
    distributor = f.DistributorFactory(account_name="dist", name="Distributor")
    reseller = f.ResellerFactory(account_name="resell", name="Reseller", distributor=distributor)
    if granted:
        PartnerControls.objects.create(partner=reseller, freeze_granted=True)
    customer = f.CustomerWithUserFactory(account_name="res-cust", name="Reseller's Customer")
    f.AssociationFactory(partner=reseller, customer=customer, type=Association.Type.RESELLER)
    dist_admin = f.MemberFactory(partner=distributor, member_name="admin", roles=["system_admin"],
                                 is_partner_admin=True)
    res_admin = f.MemberFactory(partner=reseller, member_name="admin", roles=["system_admin"], is_partner_admin=True)
    return distributor, reseller, customer, dist_admin, res_admin


def test_a_partner_freezes_its_reseller_customer_with_who_when_and_why(admin_member, customer):
    controls.customer_freeze(actor=admin_member, association=association_of(customer), reason="unpaid invoice")
    customer.refresh_from_db()
    assert customer.frozen and customer.frozen_source == "partner"
    assert customer.frozen_by_partner_id == admin_member.partner_id and customer.frozen_by == admin_member
    assert customer.frozen_reason == "unpaid invoice" and customer.frozen_at is not None
    record = OperationRecord.objects.get(event="customer.frozen")
    assert record.customer_id == customer.pk and record.reason == "unpaid invoice"
    assert record.before["frozen"] is False and record.after["frozen"] is True
    email = OutgoingEmail.objects.get(kind="account_freeze")
    assert email.recipient == customer.email and "unpaid invoice" in email.body


def test_the_partner_lifts_its_own_freeze(admin_member, customer):
    controls.customer_freeze(actor=admin_member, association=association_of(customer), reason="pause")
    controls.customer_unfreeze(actor=admin_member, association=association_of(customer), reason="paid")
    customer.refresh_from_db()
    assert not customer.frozen and customer.frozen_source == "" and customer.frozen_reason == ""
    assert OperationRecord.objects.filter(event="customer.unfrozen", reason="paid").count() == 1
    assert OutgoingEmail.objects.filter(kind="account_freeze").count() == 2


def test_a_vendor_freeze_cannot_be_lifted_by_the_partner(admin_member, customer):
    Customer.objects.filter(pk=customer.pk).update(frozen=True, frozen_source="vendor", frozen_reason="fraud check")
    with pytest.raises(ValidationError, match="only the vendor can unfreeze"):
        controls.customer_unfreeze(actor=admin_member, association=association_of(customer), reason="please")
    customer.refresh_from_db()
    assert customer.frozen and customer.frozen_source == "vendor"
    assert not OperationRecord.objects.filter(event="customer.unfrozen").exists()


def test_referral_customers_cannot_be_frozen_and_the_message_says_why(admin_member, partner):
    referral = f.CustomerWithUserFactory(account_name="ref-cust")
    f.AssociationFactory(partner=partner, customer=referral, type=Association.Type.REFERRAL)
    with pytest.raises(ValidationError, match="pay the vendor themselves"):
        controls.customer_freeze(actor=admin_member, association=association_of(referral), reason="x")
    referral.refresh_from_db()
    assert not referral.frozen and not OperationRecord.objects.exists() and not OutgoingEmail.objects.exists()


def test_a_reason_is_required_and_at_most_256_characters(admin_member, customer):
    for reason in ("", "   ", "x" * 257):
        with pytest.raises(ValidationError):
            controls.customer_freeze(actor=admin_member, association=association_of(customer), reason=reason)
    controls.customer_freeze(actor=admin_member, association=association_of(customer), reason="x" * 256)
    assert Customer.objects.get(pk=customer.pk).frozen


def test_freezing_a_frozen_account_is_refused(admin_member, customer):
    controls.customer_freeze(actor=admin_member, association=association_of(customer), reason="once")
    with pytest.raises(ValidationError, match="already frozen"):
        controls.customer_freeze(actor=admin_member, association=association_of(customer), reason="twice")
    assert OperationRecord.objects.filter(event="customer.frozen").count() == 1


def test_a_reseller_needs_its_distributors_grant(db):
    _dist, _reseller, customer, _dist_admin, res_admin = reseller_setup(granted=False)
    with pytest.raises(ValidationError, match="has not granted"):
        controls.customer_freeze(actor=res_admin, association=association_of(customer), reason="x")
    assert not Customer.objects.get(pk=customer.pk).frozen


def test_a_granted_reseller_freezes_its_own_customer(db):
    _dist, _reseller, customer, _dist_admin, res_admin = reseller_setup(granted=True)
    controls.customer_freeze(actor=res_admin, association=association_of(customer), reason="x")
    assert Customer.objects.get(pk=customer.pk).frozen


def test_a_distributor_freezes_and_unfreezes_its_resellers_customers(db):
    distributor, _reseller, customer, dist_admin, res_admin = reseller_setup(granted=True)
    controls.customer_freeze(actor=dist_admin, association=association_of(customer), reason="distributor says")
    customer.refresh_from_db()
    assert customer.frozen_by_partner_id == distributor.pk
    # The reseller cannot lift its distributor's freeze.
    with pytest.raises(ValidationError, match="Your distributor froze"):
        controls.customer_unfreeze(actor=res_admin, association=association_of(customer), reason="no")
    controls.customer_unfreeze(actor=dist_admin, association=association_of(customer), reason="ok")
    assert not Customer.objects.get(pk=customer.pk).frozen


def test_the_distributor_grants_and_takes_back_the_right(db):
    _dist, reseller, _customer, dist_admin, _res_admin = reseller_setup(granted=False)
    settings = {"start_frozen_until_budget": False, "freeze_on_exhaustion": False}
    controls.controls_settings_update(actor=dist_admin, granted_resellers=[reseller], **settings)
    assert controls.freeze_granted(reseller)
    controls.controls_settings_update(actor=dist_admin, granted_resellers=[], **settings)
    assert not controls.freeze_granted(reseller)
    assert OperationRecord.objects.filter(event="organization.freeze_grant_changed").count() == 2


def test_another_distributor_cannot_grant(db):
    _dist, reseller, _customer, _dist_admin, _res_admin = reseller_setup(granted=False)
    stranger = f.MemberFactory(partner=f.DistributorFactory(account_name="other-dist"), member_name="a",
                               roles=["system_admin"])
    with pytest.raises(ValidationError):
        controls.controls_settings_update(actor=stranger, start_frozen_until_budget=False,
                                          freeze_on_exhaustion=False, granted_resellers=[reseller])
    assert not controls.freeze_granted(reseller)


def test_an_operator_freeze_in_the_admin_is_a_vendor_freeze(operator, customer, client):
    from tests.test_admin_records import posted, saved

    client.force_login(operator, backend="organization.backends.RolePermissionBackend")
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    saved(client.post(url, posted(client.get(url), frozen="on", frozen_reason="compliance")))
    customer.refresh_from_db()
    assert customer.frozen and customer.frozen_source == "vendor" and customer.frozen_reason == "compliance"
    assert customer.frozen_by == operator
    assert OperationRecord.objects.filter(event="customer.frozen", actor_kind="operator").count() == 1
    assert OutgoingEmail.objects.filter(kind="account_freeze").count() == 1
    # An operator lifts any freeze.
    saved(client.post(url, posted(client.get(url), frozen="")))
    customer.refresh_from_db()
    assert not customer.frozen and customer.frozen_source == ""


def test_the_frozen_check_advises_the_vendor_when_the_vendor_froze_it(customer):
    Customer.objects.filter(pk=customer.pk).update(frozen=True, frozen_source="vendor")
    results = {r.code: r for r in run_checks(association=association_of(customer), action="unbind")}
    assert "contact the vendor" in results["customer.frozen"].advice
    Customer.objects.filter(pk=customer.pk).update(frozen_source="partner")
    results = {r.code: r for r in run_checks(association=association_of(customer), action="unbind")}
    assert results["customer.frozen"].advice == "The partner must unfreeze it first."


def test_the_check_page_links_to_unfreeze_when_the_member_may(as_user, admin_member, customer):
    controls.customer_freeze(actor=admin_member, association=association_of(customer), reason="x")
    page = as_user(admin_member).get(reverse("customers:unbind_check", args=[customer.pk]))
    assert reverse("customers:controls_unfreeze", args=[customer.pk]) in page.content.decode()


def test_the_check_page_has_no_unfreeze_link_for_a_vendor_freeze(as_user, admin_member, customer):
    Customer.objects.filter(pk=customer.pk).update(frozen=True, frozen_source="vendor")
    page = as_user(admin_member).get(reverse("customers:unbind_check", args=[customer.pk]))
    body = page.content.decode()
    assert reverse("customers:controls_unfreeze", args=[customer.pk]) not in body
    assert "contact the vendor" in body


def test_the_customer_page_and_account_center_say_who_froze_it_and_why(as_user, admin_member, customer, client):
    controls.customer_freeze(actor=admin_member, association=association_of(customer), reason="audit pending")
    body = as_user(admin_member).get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "Frozen by the partner" in body and "audit pending" in body and "Acme Cloud" in body
    client.force_login(customer.user)
    body = client.get(reverse("account_center:home")).content.decode()
    assert "Your partner froze your account" in body and "audit pending" in body


def test_the_freeze_page_posts_and_redirects(as_user, admin_member, customer):
    client = as_user(admin_member)
    response = client.post(reverse("customers:controls_freeze_submit", args=[customer.pk]), {"reason": "web"})
    assert response.status_code == 302
    assert Customer.objects.get(pk=customer.pk).frozen


def test_the_freeze_and_unfreeze_pages_each_explain_their_own_rule_and_post_to_their_own_action(
    as_user, admin_member, customer
):
    client = as_user(admin_member)
    body = client.get(reverse("customers:controls_freeze", args=[customer.pk])).content.decode()
    assert "<h1 class=\"h3\">Freeze account</h1>" in body
    assert reverse("customers:controls_freeze_submit", args=[customer.pk]) in body
    assert "This customer account is not frozen." not in body
    body = client.get(reverse("customers:controls_unfreeze", args=[customer.pk])).content.decode()
    assert "<h1 class=\"h3\">Unfreeze account</h1>" in body and "This customer account is not frozen." in body
    controls.customer_freeze(actor=admin_member, association=association_of(customer), reason="x")
    body = client.get(reverse("customers:controls_freeze", args=[customer.pk])).content.decode()
    assert "This customer account is already frozen." in body
    body = client.get(reverse("customers:controls_unfreeze", args=[customer.pk])).content.decode()
    assert reverse("customers:controls_unfreeze_submit", args=[customer.pk]) in body
    assert reverse("customers:controls_freeze_submit", args=[customer.pk]) not in body
    response = client.post(reverse("customers:controls_unfreeze_submit", args=[customer.pk]), {"reason": "web"})
    assert response.status_code == 302 and not Customer.objects.get(pk=customer.pk).frozen
    assert [str(m) for m in get_messages(response.wsgi_request)] == [f"The account of {customer.name} is unfrozen."]


def test_the_freeze_page_shows_a_refused_rule_as_a_form_error(as_user, admin_member, partner):
    referral = f.CustomerWithUserFactory(account_name="ref-web")
    f.AssociationFactory(partner=partner, customer=referral, type=Association.Type.REFERRAL)
    response = as_user(admin_member).post(reverse("customers:controls_freeze_submit", args=[referral.pk]),
                                          {"reason": "web"})
    assert response.status_code == 200 and "pay the vendor themselves" in response.content.decode()
    assert not OperationRecord.objects.exists()


def test_a_reseller_without_the_grant_gets_403_on_the_page_and_the_api(client, db):
    _dist, _reseller, customer, _dist_admin, res_admin = reseller_setup(granted=False)
    client.force_login(res_admin, backend="organization.backends.RolePermissionBackend")
    assert client.get(reverse("customers:controls_freeze", args=[customer.pk])).status_code == 403
    response = client.post(reverse("customers:controls_freeze_submit", args=[customer.pk]), {"reason": "x"})
    assert response.status_code == 403
    token = api_services.partner_token_create(member=res_admin)[1]
    response = client.post(f"/api/v1/customers/{customer.pk}/freeze", data=json.dumps({"reason": "x"}),
                           content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert "Your distributor has not granted you" in response.json()["detail"]
    assert not Customer.objects.get(pk=customer.pk).frozen


def test_the_freeze_is_operation_protected(as_user, admin_member, customer, partner):
    partner.operation_protection = True
    partner.save()
    response = as_user(admin_member).post(reverse("customers:controls_freeze_submit", args=[customer.pk]),
                                          {"reason": "web"})
    assert response.status_code == 200 and "operation_protection_password" in response.content.decode()
    assert not Customer.objects.get(pk=customer.pk).frozen


def test_the_api_freezes_and_unfreezes(client, admin_member, customer):
    token = api_services.partner_token_create(member=admin_member)[1]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    response = client.post(f"/api/v1/customers/{customer.pk}/freeze", data=json.dumps({"reason": "api"}),
                           content_type="application/json", **headers)
    assert response.status_code == 200 and response.json()["frozen"] is True
    assert response.json()["frozen_by"] == "partner"
    response = client.post(f"/api/v1/customers/{customer.pk}/freeze", data=json.dumps({"reason": "api"}),
                           content_type="application/json", **headers)
    assert response.status_code == 409
    response = client.post(f"/api/v1/customers/{customer.pk}/unfreeze", data=json.dumps({"reason": "api"}),
                           content_type="application/json", **headers)
    assert response.status_code == 200 and response.json()["frozen"] is False


def test_the_more_menu_offers_freeze_only_with_the_permission(as_user, admin_member, viewer, customer):
    url = reverse("customers:controls_freeze", args=[customer.pk])
    assert url in as_user(admin_member).get(reverse("customers:list")).content.decode()
    assert url not in as_user(viewer).get(reverse("customers:list")).content.decode()
