"""API v1's portal operations: customer detail and account check, requests, funds and
vouchers — each through the portal's services, with its scoping, and refused rules answered
with their check codes and advice."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from audit.models import OperationRecord
from customers.models import AssociationRequest, LedgerEntry, Voucher
from partnercenter import factories as f
from tests.api_helpers import bearer, code_of, partner_token, post_json

V1 = "/api/v1"


@pytest.fixture
def rich_partner(partner):
    partner.balance = Decimal("1000.00")
    partner.voucher_quota = Decimal("500.00")
    partner.save(update_fields=["balance", "voucher_quota"])
    return partner


@pytest.fixture
def token(admin_member, rich_partner):
    return partner_token(admin_member)


class TestCustomerDetailAndCheck:
    def test_the_detail_shows_the_account_association_and_open_request(self, client, token, customer, admin_member):
        association = customer.associations.get()
        pending = f.AssociationRequestFactory(association=association, kind="unbind", requested_by=admin_member)
        body = client.get(f"{V1}/customers/{customer.pk}", **bearer(token)).json()
        assert body["account_name"] == "cust-one" and body["association"]["own"] is True
        assert body["association"]["type"] == "reseller"
        assert body["pending_request"]["id"] == pending.pk and body["pending_request"]["deadline"]

    def test_another_partners_customer_is_404(self, client, token, other_partner):
        theirs = f.CustomerFactory(account_name="theirs")
        f.AssociationFactory(partner=other_partner, customer=theirs)
        for url in (f"{V1}/customers/{theirs.pk}", f"{V1}/customers/{theirs.pk}/checks?action=unbind"):
            response = client.get(url, **bearer(token))
            assert response.status_code == 404 and code_of(response) == "not_found"

    def test_the_check_lists_every_check_with_advice_and_the_effects_with_amounts(self, client, token, customer):
        customer.arrears = Decimal("12.00")
        customer.allocated_balance = Decimal("30.00")
        customer.save(update_fields=["arrears", "allocated_balance"])
        body = client.get(f"{V1}/customers/{customer.pk}/checks", {"action": "unbind"}, **bearer(token)).json()
        assert body["passed"] is False
        failed = {c["code"]: c for c in body["checks"] if not c["passed"]}
        assert "arrears" in failed and failed["arrears"]["advice"] and failed["arrears"]["message"]
        assert any(c["passed"] for c in body["checks"])
        assert any("30.00" in effect for effect in body["effects"])

    def test_each_check_says_who_acts_and_a_cooldown_when_it_clears(self, client, token, customer, admin_member):
        customer.arrears = Decimal("12.00")
        customer.save(update_fields=["arrears"])
        submitted = timezone.now() - timedelta(days=10)
        f.AssociationRequestFactory(association=customer.associations.get(), kind="unbind", status="rejected",
                                    requested_by=admin_member, created_at=submitted)
        body = client.get(f"{V1}/customers/{customer.pk}/checks", {"action": "switch"}, **bearer(token)).json()
        checks = {c["code"]: c for c in body["checks"]}
        assert checks["arrears"]["who_acts"] == ["partner"] and checks["arrears"]["clears_at"] is None
        cooldown = checks["cooldown.partner_request"]
        assert cooldown["passed"] is False and cooldown["who_acts"] == []
        assert cooldown["clears_at"][:10] == cooldown["advice"].split()[-3]
        assert all(c["who_acts"] == [] and c["clears_at"] is None for c in body["checks"] if c["passed"])

    def test_a_missing_or_unknown_action_is_400(self, client, token, customer):
        for params in ({}, {"action": "dissociation"}):
            response = client.get(f"{V1}/customers/{customer.pk}/checks", params, **bearer(token))
            assert response.status_code == 400 and list(response.json()["errors"]) == ["action"]


class TestRequests:
    def test_an_unbind_is_submitted_listed_and_cancelled(self, client, token, customer):
        submitted = post_json(client, f"{V1}/customers/{customer.pk}/requests",
                              {"kind": "unbind", "consent": True, "reason": "Moving on"}, **bearer(token))
        assert submitted.status_code == 201 and submitted.json()["status"] == "pending"
        request_id = submitted.json()["id"]
        listed = client.get(f"{V1}/requests", {"kind": "unbind", "status": "pending"}, **bearer(token)).json()
        assert [r["id"] for r in listed["results"]] == [request_id]
        cancelled = post_json(client, f"{V1}/requests/{request_id}/cancel", {"reason": "Changed our mind"},
                              **bearer(token))
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"

    def test_the_list_shows_each_request_as_its_own_read_does(self, client, token, customer, admin_member):
        """The list reads its rows as values (``request_listing``); each is what the request's
        own read answers, with a requester or without, handled or not."""
        association = customer.associations.get()
        f.AssociationRequestFactory(association=association, kind="unbind", status="cancelled",
                                    requested_by=admin_member, reason="<b>Moving</b> on",
                                    handled_at=timezone.now(), response_reason="Changed", failure_codes=["arrears"])
        f.AssociationRequestFactory(association=association, kind="switch", target_type="referral",
                                    requested_by=None)
        listed = [
            row for params in ({"kind": "unbind", "status": "cancelled"}, {"kind": "switch", "status": "pending"})
            for row in client.get(f"{V1}/requests", params, **bearer(token)).json()["results"]
        ]
        assert len(listed) == 2 and {r["requested_by"] for r in listed} == {admin_member.username, ""}
        for row in listed:
            assert row == client.get(f"{V1}/requests/{row['id']}", **bearer(token)).json()

    def test_a_failing_check_is_409_with_every_failed_check_and_its_advice(self, client, token, customer):
        customer.arrears = Decimal("5.00")
        customer.frozen, customer.frozen_source = True, "partner"  # a partner freeze: the partner lifts it
        customer.save(update_fields=["arrears", "frozen", "frozen_source"])
        response = post_json(client, f"{V1}/customers/{customer.pk}/requests",
                             {"kind": "unbind", "consent": True, "reason": "x"}, **bearer(token))
        assert response.status_code == 409
        problem = response.json()
        codes = {c["code"] for c in problem["checks"]}
        assert {"arrears", "customer.frozen"} <= codes and problem["code"] == "checks_failed"
        assert all(c["advice"] for c in problem["checks"] if c["code"] == "arrears")
        by_code = {c["code"]: c for c in problem["checks"]}
        assert by_code["arrears"]["who_acts"] == ["partner"] and by_code["arrears"]["clears_at"] is None
        assert by_code["customer.frozen"]["who_acts"] == ["partner"]
        assert not AssociationRequest.objects.exists()

    def test_consent_is_required(self, client, token, customer):
        response = post_json(client, f"{V1}/customers/{customer.pk}/requests",
                             {"kind": "unbind", "consent": False, "reason": "x"}, **bearer(token))
        assert response.status_code == 400 and list(response.json()["errors"]) == ["consent"]

    def test_a_customers_dissociation_is_rejected_with_a_reason(self, client, token, customer):
        dissociation = f.AssociationRequestFactory(
            association=customer.associations.get(), kind="dissociation", requested_by=customer.user
        )
        refused = post_json(client, f"{V1}/requests/{dissociation.pk}/reject", {"reason": "Unpaid invoices"},
                            **bearer(token))
        assert refused.status_code == 200 and refused.json()["status"] == "rejected"

    def test_a_customers_dissociation_is_approved(self, client, token, customer):
        dissociation = f.AssociationRequestFactory(
            association=customer.associations.get(), kind="dissociation", requested_by=customer.user
        )
        approved = post_json(client, f"{V1}/requests/{dissociation.pk}/approve", {"consent": True}, **bearer(token))
        assert approved.status_code == 200 and approved.json()["status"] == "approved"


    def test_with_operation_protection_on_the_token_is_the_proof(self, client, customer, rich_partner, admin_member):
        """The portal asks for the password again before approving (R22); the API does not:
        the token was obtained with the member's password or API key and expires within the
        hour (README › API › Operation protection). The same approval on the portal, by the
        same member in a fresh session, stops at the password page."""
        rich_partner.operation_protection = True
        rich_partner.save(update_fields=["operation_protection"])
        dissociation = f.AssociationRequestFactory(
            association=customer.associations.get(), kind="dissociation", requested_by=customer.user
        )
        from django.test import Client
        from django.urls import reverse

        portal = Client()
        portal.force_login(admin_member)
        page = portal.post(reverse("customers:request_approve", args=[dissociation.pk]), {"consent": "on"})
        assert page.status_code == 200 and b"password" in page.content.lower()
        dissociation.refresh_from_db()
        assert dissociation.status == "pending"
        approved = post_json(client, f"{V1}/requests/{dissociation.pk}/approve", {"consent": True},
                             **bearer(partner_token(admin_member)))
        assert approved.status_code == 200 and approved.json()["status"] == "approved"
        record = OperationRecord.objects.get(event="request.approved")
        assert record.actor_id == admin_member.pk


class TestFunds:
    def test_an_allocation_retried_with_its_key_moves_money_once(self, client, token, customer, rich_partner):
        url = f"{V1}/customers/{customer.pk}/funds/allocate"
        first = post_json(client, url, {"amount": "25.50"}, HTTP_IDEMPOTENCY_KEY="alloc-1", **bearer(token))
        again = post_json(client, url, {"amount": "25.50"}, HTTP_IDEMPOTENCY_KEY="alloc-1", **bearer(token))
        assert first.status_code == again.status_code == 201 and first.json() == again.json()
        assert LedgerEntry.objects.filter(kind="allocation").count() == 1
        balance = client.get(f"{V1}/balance", **bearer(token)).json()
        assert Decimal(balance["balance"]) == Decimal("974.50")
        customer.refresh_from_db()
        assert customer.allocated_balance == Decimal("25.50")
        ledger = client.get(f"{V1}/ledger", **bearer(token)).json()["results"]
        assert [Decimal(e["amount"]) for e in ledger] == [Decimal("25.50")]

    def test_recovering_more_than_was_allocated_is_a_refused_rule(self, client, token, customer):
        response = post_json(client, f"{V1}/customers/{customer.pk}/funds/recover", {"amount": "10"},
                             **bearer(token))
        assert response.status_code == 409 and response.json()["checks"]
        assert not LedgerEntry.objects.exists()

    def test_an_amount_with_three_decimals_is_400(self, client, token, customer):
        response = post_json(client, f"{V1}/customers/{customer.pk}/funds/allocate", {"amount": "1.005"},
                             **bearer(token))
        assert response.status_code == 400 and list(response.json()["errors"]) == ["amount"]

    def test_a_voucher_is_issued_listed_and_recovered(self, client, token, customer):
        expires = (timezone.now() + timedelta(days=30)).isoformat()
        issued = post_json(client, f"{V1}/customers/{customer.pk}/vouchers", {"amount": "20", "expires_at": expires},
                           **bearer(token))
        assert issued.status_code == 201 and issued.json()["status"] == "unused"
        listed = client.get(f"{V1}/vouchers", {"status": "unused"}, **bearer(token)).json()["results"]
        assert [v["id"] for v in listed] == [issued.json()["id"]]
        recovered = post_json(client, f"{V1}/vouchers/{issued.json()['id']}/recover", {}, **bearer(token))
        assert recovered.status_code == 200 and recovered.json()["status"] == "recovered"
        assert Voucher.objects.get().status == "recovered"


class TestInvitations:
    def test_an_invitation_is_sent_listed_resent_to_a_changed_email_and_revoked(
        self, client, token, mailoutbox, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            sent = post_json(client, f"{V1}/invitations", {"email": "lead@example.com", "type": "reseller"},
                             **bearer(token))
        assert sent.status_code == 201 and sent.json()["status"] == "sent" and sent.json()["link"]
        assert len(mailoutbox) == 1
        listed = client.get(f"{V1}/invitations", {"q": "lead@"}, **bearer(token)).json()["results"]
        assert [i["id"] for i in listed] == [sent.json()["id"]]
        resent = post_json(client, f"{V1}/invitations/{sent.json()['id']}/resend", {"email": "lead2@example.com"},
                           **bearer(token))
        assert resent.status_code == 201 and resent.json()["email"] == "lead2@example.com"
        revoked = post_json(client, f"{V1}/invitations/{resent.json()['id']}/revoke", {}, **bearer(token))
        assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"

    def test_a_second_open_invitation_to_one_email_is_a_refused_rule(self, client, token):
        post_json(client, f"{V1}/invitations", {"email": "dup@example.com", "type": "referral"}, **bearer(token))
        again = post_json(client, f"{V1}/invitations", {"email": "dup@example.com", "type": "referral"},
                          **bearer(token))
        assert again.status_code == 409 and again.json()["checks"]

    def test_the_public_links_name_both_types(self, client, token):
        links = client.get(f"{V1}/public-links", **bearer(token)).json()
        assert {link["type"] for link in links} == {"referral", "reseller"}
        assert all(link["url"].startswith("http://testserver/account-center/join/") for link in links)


class TestCustomerToken:
    @pytest.fixture
    def te_admin(self, admin_member, customer):
        from api import services

        partner_token, _raw = services.partner_token_create(member=admin_member)
        return services.customer_token_create(partner_token=partner_token, customer=customer, role="te_admin")[1]

    def test_it_reads_the_customers_own_account_vouchers_records_and_requests(self, client, te_admin, customer):
        me = client.get(f"{V1}/me", **bearer(te_admin)).json()
        assert me["customer"]["account_name"] == "cust-one" and me["association"]["own"] is True
        for url in ("/me/vouchers", "/me/records", "/me/requests"):
            assert client.get(V1 + url, **bearer(te_admin)).status_code == 200
        records = client.get(f"{V1}/me/records", **bearer(te_admin)).json()["results"]
        assert any(r["event"] == "api.token_exchanged" or r["customer_id"] == customer.pk for r in records)

    def test_the_minting_partner_cannot_agree_to_its_own_unbind_through_the_token(
        self, client, te_admin, customer, admin_member
    ):
        unbind = f.AssociationRequestFactory(association=customer.associations.get(), kind="unbind",
                                             requested_by=admin_member)
        for action, body in (("agree", {"consent": True}), ("reject", {"reason": "no"})):
            response = post_json(client, f"{V1}/me/requests/{unbind.pk}/{action}", body, **bearer(te_admin))
            assert response.status_code == 403 and code_of(response) == "permission_denied"
        unbind.refresh_from_db()
        assert unbind.status == "pending"

    def test_it_agrees_as_the_customer_to_another_partners_switch(self, client, te_admin, customer, other_partner):
        switch = f.AssociationRequestFactory(association=customer.associations.get(), kind="switch",
                                             requested_by=f.MemberFactory(partner=other_partner))
        response = post_json(client, f"{V1}/me/requests/{switch.pk}/reject", {"reason": "Staying"}, **bearer(te_admin))
        assert response.status_code == 200 and response.json()["status"] == "rejected"

    def test_a_refused_agreement_is_worded_for_the_customer_as_in_the_account_center(
        self, client, te_admin, customer, other_partner
    ):
        customer.arrears = Decimal("5.00")
        customer.frozen, customer.frozen_source = True, "partner"  # a partner freeze: the partner lifts it
        customer.save(update_fields=["arrears", "frozen", "frozen_source"])
        switch = f.AssociationRequestFactory(association=customer.associations.get(), kind="switch",
                                             requested_by=f.MemberFactory(partner=other_partner))
        response = post_json(client, f"{V1}/me/requests/{switch.pk}/agree", {"consent": True}, **bearer(te_admin))
        assert response.status_code == 409 and code_of(response) == "checks_failed"
        by_code = {c["code"]: c for c in response.json()["checks"]}
        assert by_code["customer.frozen"]["message"] == "Your account is frozen."
        assert by_code["customer.frozen"]["advice"] == "Ask your partner to unfreeze it first."
        assert by_code["arrears"]["message"] == "Your account is in arrears (5.00)."
        assert by_code["arrears"]["advice"] == "Ask your partner to allocate funds to clear the arrears."
        assert by_code["arrears"]["who_acts"] == ["partner"]
        assert "The customer" not in response.content.decode()
        switch.refresh_from_db()
        assert switch.status == "pending"

    def test_a_refused_dissociation_is_worded_for_the_customer_in_their_language(self, client, te_admin, customer):
        from django.utils import translation

        customer.frozen, customer.frozen_source = True, "partner"
        customer.save(update_fields=["frozen", "frozen_source"])
        response = post_json(client, f"{V1}/me/dissociation", {"reason": "Leaving"}, **bearer(te_admin),
                             HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert response.status_code == 409 and code_of(response) == "customer.frozen"
        (check,) = response.json()["checks"]
        with translation.override("zh-hans"):
            assert check["message"] == translation.gettext("Your account is frozen.") != "Your account is frozen."
            assert check["advice"] == translation.gettext("Ask your partner to unfreeze it first.")
            assert translation.gettext("The customer account is frozen.") not in response.content.decode()
        assert not AssociationRequest.objects.filter(kind="dissociation").exists()

    def test_it_asks_for_a_dissociation_as_the_customer_and_cancels_it(self, client, te_admin):
        asked = post_json(client, f"{V1}/me/dissociation", {"reason": "Leaving"}, **bearer(te_admin))
        assert asked.status_code == 201 and asked.json()["kind"] == "dissociation"
        cancelled = post_json(client, f"{V1}/me/requests/{asked.json()['id']}/cancel", {}, **bearer(te_admin))
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"


class TestRecordsAndOrganization:
    def test_records_are_listed_with_the_portals_filters_and_exported_exactly(self, client, token, partner, customer):
        other = f.CustomerFactory(account_name="other-cust")
        f.OperationRecordFactory(partner=partner, customer=customer, event="association.created")
        f.OperationRecordFactory(partner=partner, customer=other, event="association.created")
        listed = client.get(f"{V1}/records", {"customer": "cust-one"}, **bearer(token)).json()["results"]
        assert {r["customer_id"] for r in listed} == {customer.pk}
        export = client.get(f"{V1}/records/export", {"customer": "cust-one"}, **bearer(token))
        assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
        rows = b"".join(export.streaming_content).decode("utf-8-sig").strip().splitlines()
        assert len(rows) == 1 + len(listed)
        detail = client.get(f"{V1}/records/{listed[0]['id']}", **bearer(token)).json()
        assert detail["customer_id"] == customer.pk and "before" in detail

    def test_an_end_date_before_the_start_selects_nothing_as_on_the_records_page(self, client, token, partner):
        f.OperationRecordFactory(partner=partner)
        response = client.get(f"{V1}/records", {"date_from": "2026-02-02", "date_to": "2026-02-01"}, **bearer(token))
        assert response.status_code == 200 and response.json()["results"] == []
        assert client.get(f"{V1}/records", **bearer(token)).json()["results"]
        for bad in ("0000-00-00", "2026-02-30", "0"):
            response = client.get(f"{V1}/records", {"date_to": bad}, **bearer(token))
            assert response.status_code == 400 and list(response.json()["errors"]) == ["date_to"]

    def test_members_roles_and_the_callers_own_keys(self, client, token, admin_member, viewer):
        from api import services

        members = client.get(f"{V1}/members", **bearer(token)).json()
        assert {m["member_name"] for m in members} >= {"admin", "viewer"}
        roles = client.get(f"{V1}/roles", **bearer(token)).json()
        assert any("customers.view_customer" in r["permissions"] for r in roles)
        mine, _raw = services.api_key_create(actor=admin_member, name="mine")
        services.api_key_create(actor=viewer, name="theirs")
        keys = client.get(f"{V1}/api-keys", **bearer(token)).json()
        assert [k["name"] for k in keys] == ["mine"]
        revoked = post_json(client, f"{V1}/api-keys/{mine.pk}/revoke", {}, **bearer(token))
        assert revoked.status_code == 200 and revoked.json()["revoked_at"]


def test_customers_get_a_customer_manager_through_the_portals_service(client, token, customer, manager):
    response = post_json(client, f"{V1}/customer-managers", {"customer_ids": [customer.pk], "manager_id": manager.pk},
                         **bearer(token))
    assert response.status_code == 200 and response.json() == {"changed": 1}
    customer.refresh_from_db()
    assert customer.manager_id == manager.pk
    not_a_manager = post_json(client, f"{V1}/customer-managers",
                              {"customer_ids": [customer.pk], "manager_id": 999999}, **bearer(token))
    assert not_a_manager.status_code == 409 and code_of(not_a_manager) == "manager_not_assignable"
