"""What an operator changes in the Django admin leaves an operation record (issue 15, item 7):
each save, inline save and delete of partner, customer, account-fact, role or member data,
with the actor kind operator and the changed fields before and after. Built-in roles are
read-only in the admin, as in the portal."""
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.forms import CheckboxInput, MultiWidget
from django.urls import reverse
from django.utils import timezone

from audit.models import OperationRecord
from customers.models import Customer, ReservedInstance
from organization.models import Role, User
from partnercenter import factories as f

WHOLE_SECOND = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture
def admin_client(client, operator):
    client.force_login(operator, backend="organization.backends.RolePermissionBackend")
    return client


def posted(page, **changes) -> dict:
    """The admin change form of ``page`` as the browser would post it unchanged, then ``changes``."""
    forms = [page.context["adminform"].form]
    data = {}
    for inline in page.context.get("inline_admin_formsets", []):
        formset = inline.formset
        data.update({f"{formset.prefix}-{k}": v for k, v in formset.management_form.initial.items()})
        forms += formset.forms
    for form in forms:
        for bound in form:
            if bound.field.disabled:
                continue
            value, widget = bound.field.prepare_value(bound.value()), bound.field.widget
            if isinstance(widget, CheckboxInput):
                if value:
                    data[bound.html_name] = "on"
            elif isinstance(widget, MultiWidget):
                for i, part in enumerate(widget.decompress(value)):
                    data[f"{bound.html_name}_{i}"] = "" if part is None else str(part)
            elif isinstance(value, (list, tuple)):
                data[bound.html_name] = [str(v) for v in value]
            else:
                data[bound.html_name] = "" if value is None else str(value)
    data.update(changes)
    return data


def records():
    return list(OperationRecord.objects.order_by("id").values("event", "actor_kind", "partner", "customer",
                                                             "before", "after"))


def builtin(key) -> Role:
    return Role.objects.get(builtin=key)


def saved(response):
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    return response


class TestMembers:
    def test_editing_a_members_roles_writes_one_record_with_the_roles_before_and_after(
        self, admin_client, viewer, partner
    ):
        url = reverse("admin:organization_user_change", args=[viewer.pk])
        read_only, finance = builtin("read_only"), builtin("finance")
        saved(admin_client.post(url, posted(admin_client.get(url), roles=[str(read_only.pk), str(finance.pk)])))
        assert set(viewer.roles.all()) == {read_only, finance}
        assert records() == [{
            "event": "member.updated", "actor_kind": "operator", "partner": partner.pk, "customer": None,
            "before": {"user": viewer.pk, "roles": [read_only.pk]},
            "after": {"user": viewer.pk, "roles": sorted([read_only.pk, finance.pk])},
        }]

    def test_a_save_that_changes_nothing_writes_no_record(self, admin_client, viewer):
        url = reverse("admin:organization_user_change", args=[viewer.pk])
        saved(admin_client.post(url, posted(admin_client.get(url))))
        assert records() == []

    def test_a_field_change_is_recorded_with_its_value_before_and_after(self, admin_client, viewer):
        url = reverse("admin:organization_user_change", args=[viewer.pk])
        saved(admin_client.post(url, posted(admin_client.get(url), display_name="Vera Viewer")))
        [rec] = records()
        assert (rec["event"], rec["after"]) == ("member.updated", {"user": viewer.pk, "display_name": "Vera Viewer"})
        assert rec["before"] == {"user": viewer.pk, "display_name": viewer.display_name}

    def test_a_role_of_another_partner_is_refused_and_nothing_is_recorded(self, admin_client, viewer, other_partner):
        foreign = Role.objects.create(partner=other_partner, name="Theirs")
        url = reverse("admin:organization_user_change", args=[viewer.pk])
        response = admin_client.post(url, posted(admin_client.get(url), roles=[str(foreign.pk)]))
        assert response.status_code == 200 and "roles" in response.context["adminform"].form.errors
        assert list(viewer.roles.all()) == [builtin("read_only")]
        assert records() == []

    def test_setting_a_members_password_is_recorded_without_the_password(self, admin_client, viewer, partner):
        url = reverse("admin:auth_user_password_change", args=[viewer.pk])
        response = admin_client.post(url, {"password1": "A-new-long-pass-2026", "password2": "A-new-long-pass-2026",
                                           "usable_password": "true"})
        assert response.status_code == 302
        [rec] = records()
        assert (rec["event"], rec["partner"]) == ("member.password_reset", partner.pk)
        assert rec["after"] == {"user": viewer.pk}
        assert "A-new-long-pass-2026" not in str(rec) and "md5" not in str(rec)

    def test_deleting_members_from_the_list_writes_one_record_each(self, admin_client, partner):
        leavers = [f.MemberFactory(partner=partner, member_name=n, roles=["read_only"]) for n in ("one", "two")]
        response = admin_client.post(reverse("admin:organization_user_changelist"), {
            "action": "delete_selected", "_selected_action": [u.pk for u in leavers], "post": "yes",
        })
        assert response.status_code == 302
        assert not User.objects.filter(pk__in=[u.pk for u in leavers]).exists()
        rows = records()
        assert [(r["event"], r["before"]["user"], r["partner"]) for r in rows] == [
            ("member.deleted", u.pk, partner.pk) for u in sorted(leavers, key=lambda u: u.pk)
        ]
        assert all(r["before"]["roles"] == [builtin("read_only").pk] and "password" not in r["before"] for r in rows)


class TestRoles:
    def test_adding_allocate_funds_to_the_builtin_read_only_role_is_refused(self, admin_client):
        read_only = builtin("read_only")
        granted = set(read_only.permissions.all())
        url = reverse("admin:organization_role_change", args=[read_only.pk])
        page = admin_client.get(url)
        assert page.status_code == 200 and b'name="_save"' not in page.content
        allocate = Permission.objects.get(codename="allocate_funds")
        response = admin_client.post(url, {
            "name": read_only.name, "permissions": [str(p.pk) for p in granted | {allocate}],
        })
        assert response.status_code == 403
        assert set(read_only.permissions.all()) == granted
        assert records() == []

    def test_a_builtin_role_cannot_be_deleted(self, admin_client):
        url = reverse("admin:organization_role_delete", args=[builtin("read_only").pk])
        assert admin_client.post(url, {"post": "yes"}).status_code == 403
        assert Role.objects.filter(builtin="read_only").exists()
        assert records() == []

    def test_changing_a_custom_roles_permissions_is_recorded_by_permission_name(
        self, admin_client, empty_role, partner
    ):
        url = reverse("admin:organization_role_change", args=[empty_role.pk])
        view = Permission.objects.get(codename="view_customer")
        saved(admin_client.post(url, posted(admin_client.get(url), permissions=[str(view.pk)])))
        assert records() == [{
            "event": "role.updated", "actor_kind": "operator", "partner": partner.pk, "customer": None,
            "before": {"role": empty_role.pk, "permissions": []},
            "after": {"role": empty_role.pk, "permissions": ["customers.view_customer"]},
        }]

    def test_a_role_offers_only_the_portals_permissions(self, admin_client, empty_role):
        page = admin_client.get(reverse("admin:organization_role_change", args=[empty_role.pk]))
        offered = page.context["adminform"].form.fields["permissions"].queryset
        assert {p.codename for p in offered} == {
            "view_customer", "export_customers", "invite_customers", "switch_association", "unbind_association",
            "handle_dissociation", "allocate_funds", "recover_funds", "issue_vouchers", "freeze_customers",
            "manage_budgets", "view_operationrecord", "export_records", "manage_members", "manage_roles",
            "manage_settings", "use_api", "manage_webhooks",
        }

    def test_deleting_a_custom_role_writes_one_record_naming_who_held_it(self, admin_client, partner, empty_role,
                                                                          member_without_permission):
        url = reverse("admin:organization_role_delete", args=[empty_role.pk])
        assert admin_client.post(url, {"post": "yes"}).status_code == 302
        assert not Role.objects.filter(pk=empty_role.pk).exists()
        [rec] = records()
        assert (rec["event"], rec["partner"], rec["actor_kind"]) == ("role.deleted", partner.pk, "operator")
        assert rec["before"]["members"] == [member_without_permission.pk] and rec["before"]["name"] == "Nothing"


class TestCustomers:
    @pytest.fixture
    def cust(self, customer):
        Customer.objects.filter(pk=customer.pk).update(registered_at=WHOLE_SECOND)
        customer.refresh_from_db()
        return customer

    def test_adding_a_reserved_instance_inline_writes_one_record(self, admin_client, cust, partner):
        url = reverse("admin:customers_customer_change", args=[cust.pk])
        data = posted(admin_client.get(url), **{
            "reserved_instances-TOTAL_FORMS": "1", "reserved_instances-0-resource": "ecs.g7.large",
            "reserved_instances-0-expires_at_0": "2027-01-31", "reserved_instances-0-expires_at_1": "00:00:00",
            "reserved_instances-0-customer": str(cust.pk),
        })
        saved(admin_client.post(url, data))
        [instance] = ReservedInstance.objects.filter(customer=cust)
        [rec] = records()
        assert (rec["event"], rec["actor_kind"], rec["customer"], rec["partner"]) == (
            "customer.reserved_instance_added", "operator", cust.pk, partner.pk,
        )
        assert rec["after"]["id"] == instance.pk and rec["after"]["resource"] == "ecs.g7.large"

    def test_changing_and_removing_reserved_instances_inline_writes_one_record_each(self, admin_client, cust):
        later = WHOLE_SECOND + timedelta(days=9)
        kept = ReservedInstance.objects.create(customer=cust, resource="old", expires_at=later)
        gone = ReservedInstance.objects.create(customer=cust, resource="gone", expires_at=WHOLE_SECOND)
        url = reverse("admin:customers_customer_change", args=[cust.pk])
        page = admin_client.get(url)
        index = {form.instance.pk: i for i, form in enumerate(page.context["inline_admin_formsets"][0].formset.forms)}
        saved(admin_client.post(url, posted(page, **{
            f"reserved_instances-{index[kept.pk]}-resource": "new",
            f"reserved_instances-{index[gone.pk]}-DELETE": "on",
        })))
        assert sorted((r["event"], str(r["before"]), str(r["after"])) for r in records()) == sorted([
            ("customer.reserved_instance_changed", str({"id": kept.pk, "resource": "old"}),
             str({"id": kept.pk, "resource": "new"})),
            ("customer.reserved_instance_removed",
             str({"id": gone.pk, "resource": "gone", "expires_at": str(WHOLE_SECOND)}), "{}"),
        ])

    def test_editing_a_customer_account_fact_writes_one_record(self, admin_client, cust, partner):
        url = reverse("admin:customers_customer_change", args=[cust.pk])
        saved(admin_client.post(url, posted(admin_client.get(url), arrears="12.50")))
        assert records() == [{
            "event": "customer.updated", "actor_kind": "operator", "partner": partner.pk, "customer": cust.pk,
            "before": {"arrears": "0.00"}, "after": {"arrears": "12.50"},
        }]

    def test_the_same_value_written_differently_is_no_change(self, admin_client, cust):
        url = reverse("admin:customers_customer_change", args=[cust.pk])
        saved(admin_client.post(url, posted(admin_client.get(url), arrears="0", cash_balance="0.0")))
        assert records() == []

    def test_the_allocated_balance_is_not_editable(self, admin_client, cust):
        url = reverse("admin:customers_customer_change", args=[cust.pk])
        saved(admin_client.post(url, posted(admin_client.get(url), allocated_balance="999.00")))
        cust.refresh_from_db()
        assert cust.allocated_balance == Decimal("0.00")
        assert records() == []


def test_a_partners_balance_is_not_editable_and_an_edit_is_recorded(admin_client, partner):
    url = reverse("admin:organization_partner_change", args=[partner.pk])
    saved(admin_client.post(url, posted(admin_client.get(url), name="Acme Renamed", balance="999.00")))
    partner.refresh_from_db()
    assert (partner.name, partner.balance) == ("Acme Renamed", Decimal("0.00"))
    assert [(r["event"], r["before"], r["after"]) for r in records()] == [
        ("partner.updated", {"name": "Acme Cloud"}, {"name": "Acme Renamed"})
    ]


def test_a_records_time_is_the_saves(admin_client, viewer):
    url = reverse("admin:organization_user_change", args=[viewer.pk])
    started = timezone.now()
    saved(admin_client.post(url, posted(admin_client.get(url), display_name="Later")))
    assert OperationRecord.objects.get().created_at >= started



def test_creating_an_operator_in_the_admin_is_recorded(admin_client):
    response = admin_client.post(reverse("admin:organization_user_add"), {
        "username": "new-operator", "email": "new@vendor.example.com", "usable_password": "true",
        "password1": "A-long-password-2026", "password2": "A-long-password-2026",
    })
    assert response.status_code == 302
    created = User.objects.get(username="new-operator")
    [rec] = records()
    assert (rec["event"], rec["actor_kind"], rec["partner"]) == ("user.created", "operator", None)
    assert rec["after"] == {"user": created.pk, "username": "new-operator", "email": "new@vendor.example.com"}


def test_every_admin_that_can_change_the_portals_data_records_what_it_changes(rf, operator):
    """A new ModelAdmin or inline over the portal's models either changes nothing or records."""
    from django.contrib import admin

    from audit.admin_records import RecordedAdminMixin, RecordedInlineMixin

    request = rf.get("/admin/")
    request.user = operator
    unrecorded = []
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in {"organization", "customers", "audit", "api"}:
            continue
        writes = (model_admin.has_add_permission(request) or model_admin.has_change_permission(request)
                  or model_admin.has_delete_permission(request))
        if writes and not isinstance(model_admin, RecordedAdminMixin):
            unrecorded.append(model._meta.label)
        unrecorded += [i.__name__ for i in model_admin.inlines if not issubclass(i, RecordedInlineMixin)]
    assert unrecorded == []
