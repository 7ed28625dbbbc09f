"""API v1's last portal actions: a customer token answering an invitation or a public link as
the customer (never the token's own partner's offer), and project registration — through
customers.invitations, as the Account Center's link pages and the portal's project page do."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from api import services as api_services
from audit.models import OperationRecord
from customers.invitations.services import invitation_token, public_link_token
from customers.models import Association, Invitation, ProjectRegistration
from partnercenter import factories as f
from tests.api_helpers import bearer, code_of, partner_token, post_json

V1 = "/api/v1"


@pytest.fixture
def te_admin(admin_member, customer):
    partner_token_row, _raw = api_services.partner_token_create(member=admin_member)
    return api_services.customer_token_create(partner_token=partner_token_row, customer=customer, role="te_admin")[1]


def _invitation(partner, customer):
    return f.InvitationFactory(partner=partner, email=customer.email, type=Association.Type.RESELLER)


class TestOffersThroughACustomerToken:
    def test_a_partner_cannot_accept_or_decline_its_own_invitation_through_an_exchanged_token(
        self, client, te_admin, partner, customer
    ):
        invitation = _invitation(partner, customer)
        records = OperationRecord.objects.count()
        for action in ("accept", "decline"):
            response = post_json(client, f"{V1}/me/invitations/{action}", {"token": invitation_token(invitation)},
                                 **bearer(te_admin))
            assert response.status_code == 403 and code_of(response) == "permission_denied"
            assert "only the customer" in response.json()["detail"]
        invitation.refresh_from_db()
        assert invitation.status == Invitation.Status.SENT and OperationRecord.objects.count() == records

    def test_a_partner_cannot_accept_its_own_public_link_through_an_exchanged_token(
        self, client, te_admin, partner, customer
    ):
        response = post_json(client, f"{V1}/me/public-link/accept",
                             {"token": public_link_token(partner, "reseller")}, **bearer(te_admin))
        assert response.status_code == 403 and code_of(response) == "permission_denied"
        assert Association.objects.filter(customer=customer).count() == 1

    def test_accepting_another_partners_invitation_runs_the_account_check_of_acceptance(
        self, client, te_admin, other_partner, customer
    ):
        # A customer token exists only while the customer is associated (R28), so acceptance
        # meets the "already associated" check (R3) and nothing changes.
        invitation = _invitation(other_partner, customer)
        response = post_json(client, f"{V1}/me/invitations/accept", {"token": invitation_token(invitation)},
                             **bearer(te_admin))
        assert response.status_code == 409
        checks = {c["code"]: c for c in response.json()["checks"]}
        assert "associated" in checks and "Acme Cloud" in checks["associated"]["detail"]
        invitation.refresh_from_db()
        assert invitation.status == Invitation.Status.SENT
        assert not Association.objects.filter(customer=customer, partner=other_partner).exists()

    def test_the_public_link_of_another_partner_is_refused_by_the_same_check(
        self, client, te_admin, other_partner, customer
    ):
        response = post_json(client, f"{V1}/me/public-link/accept",
                             {"token": public_link_token(other_partner, "referral")}, **bearer(te_admin))
        assert response.status_code == 409
        assert "associated" in {c["code"] for c in response.json()["checks"]}

    def test_declining_another_partners_invitation_declines_it_as_the_customer(
        self, client, te_admin, other_partner, customer
    ):
        invitation = _invitation(other_partner, customer)
        response = post_json(client, f"{V1}/me/invitations/decline", {"token": invitation_token(invitation)},
                             **bearer(te_admin))
        assert response.status_code == 200, response.content
        assert response.json() == {"id": invitation.pk, "type": "reseller", "status": "declined",
                                   "partner": {"id": other_partner.pk, "account_name": "globex", "name": "Globex"}}
        invitation.refresh_from_db()
        assert invitation.status == Invitation.Status.DECLINED and invitation.customer == customer
        record = OperationRecord.objects.get(event="invitation.declined")
        assert record.actor_id == customer.user_id and record.partner_id == other_partner.pk

    def test_a_forged_link_is_404_and_a_used_one_410_saying_why(self, client, te_admin, other_partner, customer):
        forged = post_json(client, f"{V1}/me/invitations/accept", {"token": "abc:def"}, **bearer(te_admin))
        assert forged.status_code == 404 and code_of(forged) == "link_invalid"
        used = _invitation(other_partner, customer)
        used.status = Invitation.Status.DECLINED
        used.save(update_fields=["status"])
        gone = post_json(client, f"{V1}/me/invitations/decline", {"token": invitation_token(used)},
                         **bearer(te_admin))
        assert gone.status_code == 410 and code_of(gone) == "link_unusable"
        assert "declined" in gone.json()["detail"]

    def test_a_token_that_is_not_a_link_token_is_400_naming_the_field(self, client, te_admin):
        response = post_json(client, f"{V1}/me/invitations/accept", {"token": "no spaces/or slashes"},
                             **bearer(te_admin))
        assert response.status_code == 400 and list(response.json()["errors"]) == ["token"]


def _project(customer, **overrides):
    return {"customer_id": customer.pk, "name": "Move to the cloud", "expected_amount": "1200.50",
            "expected_close": (timezone.localdate() + timedelta(days=30)).isoformat(), **overrides}


class TestProjects:
    @pytest.fixture
    def token(self, admin_member, partner):
        partner.in_migration_programme = True
        partner.save(update_fields=["in_migration_programme"])
        return partner_token(admin_member)

    def test_a_programme_partner_registers_a_project_and_lists_it(self, client, token, customer):
        response = post_json(client, f"{V1}/projects", _project(customer), **bearer(token))
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["status"] == "submitted" and body["customer"]["id"] == customer.pk
        assert Decimal(body["expected_amount"]) == Decimal("1200.50")
        project = ProjectRegistration.objects.get()
        assert project.name == "Move to the cloud"
        assert OperationRecord.objects.filter(event="project.registered", partner=project.partner).exists()
        listed = client.get(f"{V1}/projects", **bearer(token)).json()
        assert [p["id"] for p in listed["results"]] == [project.pk]

    def test_another_partners_customer_is_404(self, client, token, other_partner):
        theirs = f.CustomerFactory(account_name="theirs")
        f.AssociationFactory(partner=other_partner, customer=theirs)
        response = post_json(client, f"{V1}/projects", _project(theirs), **bearer(token))
        assert response.status_code == 404 and not ProjectRegistration.objects.exists()

    def test_a_partner_outside_the_programme_is_refused_with_the_rule(self, client, admin_member, customer):
        response = post_json(client, f"{V1}/projects", _project(customer), **bearer(partner_token(admin_member)))
        assert response.status_code == 409 and code_of(response) == "not_in_programme"
        assert "migration programme" in response.json()["detail"] and not ProjectRegistration.objects.exists()

    def test_a_close_date_in_the_past_is_refused_by_the_service(self, client, token, customer):
        past = (timezone.localdate() - timedelta(days=1)).isoformat()
        response = post_json(client, f"{V1}/projects", _project(customer, expected_close=past), **bearer(token))
        assert response.status_code == 409 and code_of(response) == "past"
        assert not ProjectRegistration.objects.exists()
