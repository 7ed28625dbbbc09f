"""Project registration (项目报备): migration-programme partners register projects for their
customers; operators approve or reject them in the admin, always with a reason."""
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import OperationRecord
from customers.invitations.services import project_register, project_review
from customers.models import ProjectRegistration
from organization.models import Partner
from partnercenter import factories as f

LIST = reverse("customers:project_list")
CREATE = reverse("customers:project_create")


def review_url(project):
    return reverse("admin:customers_projectregistration_review", args=[project.pk])


@pytest.fixture
def in_programme(partner):
    Partner.objects.filter(pk=partner.pk).update(in_migration_programme=True)
    partner.refresh_from_db()
    return partner


def project_form(**overrides):
    return {
        "customer": "cust-one",
        "name": "Move the ERP",
        "expected_amount": "120000.50",
        "expected_close": (timezone.localdate() + timedelta(days=90)).isoformat(),
        "description": "Lift and shift of 40 VMs.",
        **overrides,
    }


def events():
    return list(OperationRecord.objects.order_by("id").values_list("event", flat=True))


def test_a_partner_outside_the_programme_sees_why_it_cannot_register(as_user, admin_member, customer):
    client = as_user(admin_member)
    for url in (LIST, CREATE):
        body = client.get(url).content.decode()
        assert "migration programme" in body and "has not joined it" in body
    assert CREATE not in client.get(LIST).content.decode()
    response = client.post(CREATE, project_form())
    assert response.status_code == 200 and b"has not joined it" in response.content
    assert not ProjectRegistration.objects.exists() and events() == []


def test_the_service_refuses_outside_the_programme(admin_member, customer):
    with pytest.raises(ValidationError, match="has not joined it"):
        project_register(
            actor=admin_member, customer=customer, name="x", expected_amount=1, expected_close=timezone.localdate()
        )
    assert not ProjectRegistration.objects.exists()


def test_a_programme_partner_registers_a_project_and_it_is_recorded(as_user, admin_member, customer, in_programme):
    response = as_user(admin_member).post(CREATE, project_form())
    assert response.status_code == 302 and response["Location"] == LIST
    project = ProjectRegistration.objects.get()
    assert (project.partner, project.customer, project.status, str(project.expected_amount)) == (
        in_programme, customer, "submitted", "120000.50",
    )
    assert project.submitted_by == admin_member
    record = OperationRecord.objects.get()
    assert record.event == "project.registered" and record.customer == customer
    body = as_user(admin_member).get(LIST).content.decode()
    assert "Move the ERP" in body and "Submitted" in body


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"customer": "no-such-account"}, "customer"),
        ({"expected_amount": "0"}, "expected_amount"),
        ({"expected_amount": "-5"}, "expected_amount"),
        ({"expected_amount": "1.005"}, "expected_amount"),
        ({"expected_amount": "1e400"}, "expected_amount"),
        ({"expected_amount": "NaN"}, "expected_amount"),
        ({"expected_close": "2020-01-01"}, "expected_close"),
        ({"expected_close": "31/31/2031"}, "expected_close"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_input_is_a_form_error_and_registers_nothing(
    as_user, admin_member, customer, in_programme, overrides, field
):
    response = as_user(admin_member).post(CREATE, project_form(**overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not ProjectRegistration.objects.exists() and events() == []


def test_another_partners_customer_cannot_be_named(as_user, admin_member, in_programme, other_partner):
    f.AssociationFactory(partner=other_partner, customer=f.CustomerFactory(account_name="theirs"))
    response = as_user(admin_member).post(CREATE, project_form(customer="theirs"))
    assert "No customer of your organization" in " ".join(response.context["form"].errors["customer"])
    assert not ProjectRegistration.objects.exists()


def test_the_service_refuses_a_customer_that_is_not_associated_with_the_partner(admin_member, in_programme):
    stranger = f.CustomerFactory(account_name="stranger")
    with pytest.raises(ValidationError, match="not associated with your organization"):
        project_register(
            actor=admin_member, customer=stranger, name="x", expected_amount=1, expected_close=timezone.localdate()
        )
    assert not ProjectRegistration.objects.exists()


def test_a_customer_manager_names_only_managed_customers(as_user, partner, in_programme, manager):
    f.AssociationFactory(partner=partner, customer=f.CustomerFactory(account_name="managed", manager=manager))
    f.AssociationFactory(partner=partner, customer=f.CustomerFactory(account_name="unmanaged"))
    client = as_user(manager)
    assert client.post(CREATE, project_form(customer="unmanaged")).status_code == 200
    assert client.post(CREATE, project_form(customer="managed")).status_code == 302
    assert list(ProjectRegistration.objects.values_list("customer__account_name", flat=True)) == ["managed"]


def test_the_list_shows_only_the_partners_own_projects(as_user, admin_member, customer, other_partner):
    f.ProjectRegistrationFactory(partner=admin_member.partner, customer=customer, name="Ours")
    f.ProjectRegistrationFactory(partner=other_partner, name="Theirs")
    body = as_user(admin_member).get(LIST).content.decode()
    assert "Ours" in body and "Theirs" not in body


@pytest.mark.parametrize("rows", [3, 60])
def test_the_list_query_count_does_not_grow_with_rows(
    as_user, admin_member, customer, rows, django_assert_max_num_queries
):
    f.ProjectRegistrationFactory.create_batch(
        rows, partner=admin_member.partner, customer=customer, submitted_by=admin_member
    )
    client = as_user(admin_member)
    client.get(LIST)
    # session, user, roles, count, rows
    with django_assert_max_num_queries(5):
        response = client.get(LIST)
    assert len(response.context["page"].rows) == min(rows, 50)


@pytest.mark.parametrize("url", [LIST, CREATE])
def test_project_pages_need_the_invite_permission(as_user, viewer, url):
    assert as_user(viewer).get(url).status_code == 403


# Operators' review ------------------------------------------------------------------------------

@pytest.fixture
def operator_client(operator):
    client = Client()
    client.force_login(operator, backend="organization.backends.RolePermissionBackend")
    return client


@pytest.fixture
def project(partner, customer):
    return f.ProjectRegistrationFactory(partner=partner, customer=customer, name="Move the ERP")


@pytest.mark.parametrize("decision, status, event", [("approve", "approved", "project.approved"),
                                                     ("reject", "rejected", "project.rejected")])
def test_an_operator_reviews_a_project_with_a_reason(
    operator_client, operator, as_user, admin_member, project, decision, status, event
):
    change = reverse("admin:customers_projectregistration_change", args=[project.pk])
    assert review_url(project).encode() in operator_client.get(change).content
    response = operator_client.post(review_url(project), {"decision": decision, "reason": "Budget confirmed."})
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.status == status and project.review_reason == "Budget confirmed." and project.reviewed_at
    record = OperationRecord.objects.get()
    assert (record.event, record.actor_kind, record.reason) == (event, "operator", "Budget confirmed.")
    assert record.partner == project.partner and record.customer == project.customer
    body = as_user(admin_member).get(LIST).content.decode()
    assert "Budget confirmed." in body and status.capitalize() in body
    assert review_url(project).encode() not in operator_client.get(change).content


@pytest.mark.parametrize("data", [{"decision": "approve", "reason": "   "}, {"decision": "maybe", "reason": "x"}, {}])
def test_a_review_without_a_reason_or_decision_is_refused(operator_client, project, data):
    response = operator_client.post(review_url(project), data)
    assert response.status_code == 200 and response.context["form"].errors
    project.refresh_from_db()
    assert project.status == "submitted" and events() == []


def test_the_service_requires_a_reason(operator, project):
    with pytest.raises(ValidationError, match="Give the reason"):
        project_review(actor=operator, project=project, approve=True, reason="  ")
    assert ProjectRegistration.objects.get().status == "submitted"


def test_a_reviewed_project_cannot_be_reviewed_again(operator_client, operator, project):
    project_review(actor=operator, project=project, approve=False, reason="No budget.")
    response = operator_client.post(review_url(project), {"decision": "approve", "reason": "Changed my mind."})
    assert response.status_code == 200
    assert "already reviewed" in str(response.context["form"].non_field_errors())
    project.refresh_from_db()
    assert project.status == "rejected" and project.review_reason == "No budget."
    assert events() == ["project.rejected"]


def test_projects_cannot_be_added_edited_or_deleted_in_the_admin(operator_client, project):
    assert operator_client.get(reverse("admin:customers_projectregistration_add")).status_code == 403
    delete = reverse("admin:customers_projectregistration_delete", args=[project.pk])
    assert operator_client.post(delete).status_code == 403
    change = reverse("admin:customers_projectregistration_change", args=[project.pk])
    operator_client.post(change, {"name": "Renamed", "status": "approved"})
    project.refresh_from_db()
    assert (project.name, project.status) == ("Move the ERP", "submitted")


def test_staff_without_the_change_permission_cannot_review(project, db):
    from django.contrib.auth.models import Permission

    staff = f.OperatorFactory(username="junior", is_superuser=False)
    staff.user_permissions.add(Permission.objects.get(codename="view_projectregistration"))
    client = Client()
    client.force_login(staff, backend="organization.backends.RolePermissionBackend")
    assert client.get(reverse("admin:customers_projectregistration_change", args=[project.pk])).status_code == 200
    assert client.post(review_url(project), {"decision": "approve", "reason": "x"}).status_code == 403
    project.refresh_from_db()
    assert project.status == "submitted"


def test_the_invitations_admin_is_read_only_history(operator_client, partner):
    invitation = f.InvitationFactory(partner=partner)
    assert operator_client.get(reverse("admin:customers_invitation_changelist")).status_code == 200
    page = operator_client.get(reverse("admin:customers_invitation_change", args=[invitation.pk]))
    assert page.status_code == 200 and invitation.nonce.encode() not in page.content
    assert operator_client.get(reverse("admin:customers_invitation_add")).status_code == 403
