"""Organization › Roles (SPEC R19): built-in roles read-only, up to 10 custom roles, the
permission checklist grouped by menu, roles in use kept, and the rules on combining roles."""
import threading

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from audit.models import OperationRecord
from organization import services
from organization.models import Role, User
from partnercenter import factories as f

ROLES = reverse("organization:roles")
CREATE = reverse("organization:role_create")


def role(key):
    return Role.objects.get(builtin=key)


def permission(perm):
    app_label, codename = perm.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def custom_role(partner, name, *perms):
    made = Role.objects.create(partner=partner, name=name)
    made.permissions.set([permission(p) for p in perms])
    return made


def perms_of(r):
    return {f"{p.content_type.app_label}.{p.codename}" for p in r.permissions.all()}


class TestRolePages:
    def test_the_list_shows_built_in_and_own_custom_roles_only(self, as_user, admin_member, partner, other_partner):
        custom_role(partner, "Auditors", "audit.view_operationrecord")
        custom_role(other_partner, "Their secret role")
        body = as_user(admin_member).get(ROLES).content.decode()
        assert "System Administrator" in body and "Auditors" in body
        assert "Their secret role" not in body

    def test_the_checklist_is_grouped_by_menu(self, as_user, admin_member):
        body = as_user(admin_member).get(CREATE).content.decode()
        for menu in ("Sales › Customers", "Records", "Organization", "API"):
            assert f">{menu}</legend>" in body
        assert "Can export the customer list" in body
        assert 'value="customers.export_customers"' in body

    def test_a_built_in_role_is_shown_read_only(self, as_user, admin_member):
        body = as_user(admin_member).get(reverse("organization:role_edit", args=[role("finance").pk])).content.decode()
        assert "Built-in roles are read-only." in body
        assert "<fieldset class=\"mb-3\" disabled>" in body

    def test_another_partners_custom_role_is_a_404(self, as_user, admin_member, other_partner):
        theirs = custom_role(other_partner, "Theirs")
        client = as_user(admin_member)
        assert client.get(reverse("organization:role_edit", args=[theirs.pk])).status_code == 404
        assert client.post(reverse("organization:role_delete", args=[theirs.pk])).status_code == 404
        assert Role.objects.filter(pk=theirs.pk).exists()


class TestCustomRoles:
    def test_a_custom_role_is_created_with_its_permissions_and_a_record(self, as_user, admin_member, partner):
        response = as_user(admin_member).post(
            CREATE,
            {"name": "Auditors", "description": "Reads records",
             "permissions": ["audit.view_operationrecord", "audit.export_records"]},
        )
        assert response.status_code == 302
        made = Role.objects.get(partner=partner, name="Auditors")
        assert perms_of(made) == {"audit.view_operationrecord", "audit.export_records"}
        record = OperationRecord.objects.get(event="role.created")
        assert record.after["permissions"] == ["audit.export_records", "audit.view_operationrecord"]

    def test_editing_a_role_changes_what_its_members_may_do(self, as_user, admin_member, partner):
        auditors = custom_role(partner, "Auditors", "audit.view_operationrecord")
        holder = f.MemberFactory(partner=partner, member_name="holder", roles=[auditors])
        as_user(admin_member).post(
            reverse("organization:role_edit", args=[auditors.pk]),
            {"name": "Auditors", "permissions": ["audit.view_operationrecord", "customers.view_customer"]},
        )
        assert User.objects.get(pk=holder.pk).has_perm("customers.view_customer")
        record = OperationRecord.objects.get(event="role.updated")
        assert record.before["permissions"] == ["audit.view_operationrecord"]

    def test_a_built_in_role_cannot_be_changed(self, as_user, admin_member):
        finance = role("finance")
        before = perms_of(finance)
        response = as_user(admin_member).post(
            reverse("organization:role_edit", args=[finance.pk]),
            {"name": "Finance", "permissions": ["customers.export_customers"]},
        )
        assert "Built-in roles cannot be changed or deleted." in response.content.decode()
        assert perms_of(role("finance")) == before
        assert not OperationRecord.objects.filter(event="role.updated").exists()

    def test_a_built_in_role_cannot_be_deleted(self, as_user, admin_member):
        response = as_user(admin_member).post(
            reverse("organization:role_delete", args=[role("read_only").pk]), follow=True
        )
        assert "Built-in roles cannot be changed or deleted." in response.content.decode()
        assert Role.objects.filter(builtin="read_only").exists()

    def test_an_unused_role_is_deleted_with_a_record(self, as_user, admin_member, partner):
        spare = custom_role(partner, "Spare", "customers.view_customer")
        as_user(admin_member).post(reverse("organization:role_delete", args=[spare.pk]))
        assert not Role.objects.filter(pk=spare.pk).exists()
        assert OperationRecord.objects.get(event="role.deleted").before["name"] == "Spare"

    def test_a_role_in_use_cannot_be_deleted(self, as_user, admin_member, partner):
        used = custom_role(partner, "Used", "customers.view_customer")
        f.MemberFactory(partner=partner, member_name="holder", roles=[used])
        response = as_user(admin_member).post(reverse("organization:role_delete", args=[used.pk]), follow=True)
        assert "1 member holds this role. Give them another role first, then delete it." in response.content.decode()
        assert Role.objects.filter(pk=used.pk).exists()
        assert not OperationRecord.objects.filter(event="role.deleted").exists()

    def test_the_eleventh_custom_role_is_refused(self, as_user, admin_member, partner):
        for i in range(10):
            custom_role(partner, f"Role {i}")
        response = as_user(admin_member).post(CREATE, {"name": "One more", "permissions": ["customers.view_customer"]})
        assert "Your organization has 10 custom roles, the most it may have." in response.content.decode()
        assert Role.objects.filter(partner=partner).count() == 10
        assert not OperationRecord.objects.filter(event="role.created").exists()

    def test_the_custom_role_limit_is_a_setting(self, as_user, admin_member, partner, settings):
        settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "CUSTOM_ROLES_PER_PARTNER": 1}
        client = as_user(admin_member)
        client.post(CREATE, {"name": "First", "permissions": ["customers.view_customer"]})
        client.post(CREATE, {"name": "Second", "permissions": ["customers.view_customer"]})
        assert list(Role.objects.filter(partner=partner).values_list("name", flat=True)) == ["First"]

    def test_another_partners_roles_do_not_count(self, admin_member, partner, other_partner):
        for i in range(10):
            custom_role(other_partner, f"Role {i}")
        services.role_create(actor=admin_member, partner=partner, name="Mine", description="",
                             permissions=["customers.view_customer"])
        assert Role.objects.filter(partner=partner).count() == 1

    @pytest.mark.parametrize("name", ["Finance", "finance", " System Administrator ", "existing"])
    def test_a_taken_name_is_refused(self, as_user, admin_member, partner, name):
        custom_role(partner, "Existing")
        response = as_user(admin_member).post(CREATE, {"name": name, "permissions": ["customers.view_customer"]})
        assert "A role with this name exists already." in response.content.decode()
        assert Role.objects.filter(partner=partner).count() == 1

    def test_a_role_needs_at_least_one_permission(self, as_user, admin_member, partner):
        response = as_user(admin_member).post(CREATE, {"name": "Empty"})
        assert "Choose at least one permission." in response.content.decode()
        assert not Role.objects.filter(partner=partner).exists()

    def test_a_permission_outside_the_catalogue_is_refused(self, as_user, admin_member, partner):
        response = as_user(admin_member).post(CREATE, {"name": "Sneaky", "permissions": ["auth.change_user"]})
        assert response.status_code == 200
        assert not Role.objects.filter(partner=partner).exists()

    def test_a_member_cannot_grant_permissions_they_do_not_hold(self, as_user, partner):
        role_admin = custom_role(partner, "Role admin", "organization.manage_roles")
        member = f.MemberFactory(partner=partner, member_name="ra", roles=[role_admin])
        response = as_user(member).post(CREATE, {"name": "Escalate", "permissions": ["customers.export_customers"]})
        assert "You can only grant permissions you hold yourself." in response.content.decode()
        assert not Role.objects.filter(name="Escalate").exists()


class TestRoleCombinations:
    """A member holds 1–3 roles; System Administrator alone; Customer Manager and Customer
    Manager Supervisor exclude each other. Each refusal leaves the member as they were."""

    @pytest.fixture
    def url(self, viewer):
        return reverse("organization:member_edit", args=[viewer.pk])

    def post_roles(self, client, url, viewer, roles):
        return client.post(
            url, {"display_name": "Vic", "email": viewer.email, "mobile": "", "roles": [r.pk for r in roles]}
        )

    @pytest.mark.parametrize(
        "keys, message",
        [
            ([], "This field is required."),
            (["system_admin", "read_only"], "System Administrator holds every permission and cannot be combined"),
            (["customer_manager", "customer_manager_supervisor"], "Customer Manager and Customer Manager Supervisor"
                                                                  " exclude each other: choose one of them."),
        ],
    )
    def test_a_forbidden_combination_is_refused(self, as_user, admin_member, viewer, url, keys, message):
        response = self.post_roles(as_user(admin_member), url, viewer, [role(k) for k in keys])
        assert message in response.content.decode()
        assert list(User.objects.get(pk=viewer.pk).roles.values_list("builtin", flat=True)) == ["read_only"]
        assert not OperationRecord.objects.filter(event="member.updated").exists()

    def test_four_roles_are_too_many(self, as_user, admin_member, partner, viewer, url):
        extra = [custom_role(partner, f"Extra {i}", "customers.view_customer") for i in range(2)]
        response = self.post_roles(as_user(admin_member), url, viewer, [role("finance"), role("read_only"), *extra])
        assert "Give a member one to three roles." in response.content.decode()
        assert User.objects.get(pk=viewer.pk).roles.count() == 1

    def test_three_roles_are_allowed(self, as_user, admin_member, partner, viewer, url):
        extra = custom_role(partner, "Extra", "customers.view_customer")
        self.post_roles(as_user(admin_member), url, viewer, [role("finance"), role("customer_manager"), extra])
        assert User.objects.get(pk=viewer.pk).roles.count() == 3

    def test_the_partner_administrator_keeps_system_administrator(self, admin_member):
        with pytest.raises(ValidationError) as caught:
            services.member_update(
                actor=admin_member, member=admin_member, display_name="A", email=admin_member.email, mobile="",
                roles=[role("read_only")], supervisor=None,
            )
        assert "always holds the System Administrator role" in str(caught.value)
        assert list(admin_member.roles.values_list("builtin", flat=True)) == ["system_admin"]

    def test_a_member_cannot_give_a_role_beyond_their_own_permissions(self, as_user, partner, viewer, url):
        hr = custom_role(partner, "HR", "organization.manage_members", "customers.view_customer",
                         "audit.view_operationrecord")
        member = f.MemberFactory(partner=partner, member_name="hr", roles=[hr])
        response = self.post_roles(as_user(member), url, viewer, [role("system_admin")])
        assert "You can only give roles whose permissions you hold yourself." in response.content.decode()
        assert list(User.objects.get(pk=viewer.pk).roles.values_list("builtin", flat=True)) == ["read_only"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_members_creating_the_last_allowed_role_at_once_end_with_one(settings):
    f.default_password_hash.cache_clear()
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "CUSTOM_ROLES_PER_PARTNER": 3}
    partner = f.PartnerFactory(account_name="race")
    for i in range(2):
        custom_role(partner, f"Role {i}")
    admins = [f.MemberFactory(partner=partner, member_name=f"admin{i}") for i in range(2)]
    barrier = threading.Barrier(2)
    outcomes = []

    def create(admin, name):
        try:
            barrier.wait()
            services.role_create(actor=admin, partner=partner, name=name, description="",
                                 permissions=["customers.view_customer"])
            outcomes.append("created")
        except ValidationError as exc:
            outcomes.append(exc.messages[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(a, f"Last {i}")) for i, a in enumerate(admins)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("created") == 1
    assert any("the most it may have" in o for o in outcomes)
    assert Role.objects.filter(partner=partner).count() == 3
    assert OperationRecord.objects.filter(event="role.created").count() == 1
