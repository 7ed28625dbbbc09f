"""The operators' Django admin."""
from django.urls import reverse

from audit.models import OperationRecord
from organization.models import Partner, User


def test_creating_a_partner_creates_its_administrator(client, operator):
    client.force_login(operator, backend="organization.backends.RolePermissionBackend")
    response = client.post(
        reverse("admin:organization_partner_add"),
        {
            "account_name": "newco", "name": "NewCo", "kind": "solution_provider",
            "admin_member_name": "admin", "admin_email": "boss@newco.example.com",
            "admin_password": "A-long-password-2026",
        },
    )
    assert response.status_code == 302, response.content
    partner = Partner.objects.get(account_name="newco")
    admin_user = User.objects.get(partner=partner, member_name="admin")
    assert admin_user.is_partner_admin and admin_user.has_perm("organization.manage_members")
    assert set(OperationRecord.objects.filter(partner=partner).values_list("event", flat=True)) == {
        "partner.created", "member.created",
    }


def test_editing_customer_facts_is_recorded(client, operator, customer):
    client.force_login(operator, backend="organization.backends.RolePermissionBackend")
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k in form.fields}
    data.update({
        "frozen": "on", "arrears": "10.00", "registered_at_0": "2025-01-01", "registered_at_1": "00:00:00",
        "reserved_instances-TOTAL_FORMS": "0", "reserved_instances-INITIAL_FORMS": "0",
    })
    for key in ("has_consumption",):
        if form.initial.get(key):
            data[key] = "on"
    data.pop("registered_at", None)
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    rec = OperationRecord.objects.get(event="customer.updated")
    assert rec.after["frozen"] is True and rec.actor_kind == "operator"


def test_operation_records_are_read_only_in_the_admin(client, operator):
    client.force_login(operator, backend="organization.backends.RolePermissionBackend")
    assert client.get(reverse("admin:audit_operationrecord_add")).status_code == 403
