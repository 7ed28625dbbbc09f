"""Organization › Members (SPEC R16–R18): creating, editing, disabling, enabling and resetting
the password of members; uniqueness of e-mail and mobile; supervisors; customer managers."""
import threading

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse

from audit.models import OperationRecord
from customers.models import Customer
from organization import services
from organization.models import Role, User
from partnercenter import factories as f

MEMBERS = reverse("organization:members")
CREATE = reverse("organization:member_create")
ASSIGN = reverse("organization:customer_manager_assign")
PASSWORD = "Fresh-pass-2026!"


def edit_url(member):
    return reverse("organization:member_edit", args=[member.pk])


def role(key):
    return Role.objects.get(builtin=key)


def create_data(**overrides):
    data = {
        "member_name": "carol",
        "display_name": "Carol",
        "email": "carol@acme.example.com",
        "mobile": "",
        "roles": [role("read_only").pk],
        "supervisor": "",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    data.update(overrides)
    return data


def edit_data(member, **overrides):
    data = {
        "display_name": member.display_name,
        "email": member.email,
        "mobile": member.mobile,
        "roles": [r.pk for r in member.roles.all()],
        "supervisor": member.supervisor_id or "",
    }
    data.update(overrides)
    return data


def role_with(partner, *perms):
    granted = Role.objects.create(partner=partner, name="+".join(perms))
    granted.permissions.set(
        [Permission.objects.get(content_type__app_label=p.split(".")[0], codename=p.split(".")[1]) for p in perms]
    )
    return granted


def records(event):
    return OperationRecord.objects.filter(event=event)


def sign_in_form(partner_account, member_name, password):
    return Client().post(
        reverse("login"), {"partner_account": partner_account, "member_name": member_name, "password": password}
    )


class TestMemberList:
    def test_it_lists_the_partners_own_members_only(self, as_user, admin_member, viewer, other_member):
        body = as_user(admin_member).get(MEMBERS).content.decode()
        assert "viewer" in body
        assert other_member.email not in body

    def test_it_shows_no_disable_button_for_yourself_or_the_partner_administrator(self, as_user, admin_member, viewer):
        body = as_user(admin_member).get(MEMBERS).content.decode()
        assert reverse("organization:member_disable", args=[viewer.pk]) in body
        assert reverse("organization:member_disable", args=[admin_member.pk]) not in body

    def test_the_query_count_does_not_grow_with_members(
        self, as_user, admin_member, partner, django_assert_max_num_queries
    ):
        for i in range(30):
            f.MemberFactory(partner=partner, member_name=f"m{i}", roles=["read_only", "finance"])
        client = as_user(admin_member)
        client.get(MEMBERS)
        # session, user, permissions, members page, their roles
        with django_assert_max_num_queries(5):
            response = client.get(MEMBERS)
        assert len(response.context["page"].rows) == 31


class TestMemberCreate:
    def test_it_creates_the_member_with_roles_and_writes_a_record(self, as_user, admin_member):
        response = as_user(admin_member).post(CREATE, create_data())
        assert response.status_code == 302
        carol = User.objects.get(partner=admin_member.partner, member_name="carol")
        assert list(carol.roles.values_list("builtin", flat=True)) == ["read_only"]
        assert carol.username == "acme:carol"
        record = records("member.created").get()
        assert record.actor == admin_member and record.partner == admin_member.partner
        assert record.after["member_name"] == "carol" and record.after["roles"] == ["Read-only"]

    def test_the_new_member_signs_in_with_partner_account_name_and_password(self, as_user, admin_member):
        as_user(admin_member).post(CREATE, create_data())
        response = sign_in_form("acme", "carol", PASSWORD)
        assert response.status_code == 302
        assert response.wsgi_request.user.member_name == "carol"

    @pytest.mark.parametrize("variant", ["Taken@Example.com", "  taken@example.com ", "TAKEN@EXAMPLE.COM"])
    def test_an_email_registered_in_any_case_or_with_spaces_is_refused(self, as_user, admin_member, variant):
        f.MemberFactory(partner=admin_member.partner, member_name="first", email="taken@example.com")
        response = as_user(admin_member).post(CREATE, create_data(email=variant))
        assert response.status_code == 200
        assert "This e-mail is already registered. Remove it from the other account first" in response.content.decode()
        assert not User.objects.filter(member_name="carol").exists()
        assert not records("member.created").exists()

    def test_an_email_of_a_customer_account_is_refused_too(self, as_user, admin_member, customer_user):
        response = as_user(admin_member).post(CREATE, create_data(email=customer_user.email.upper()))
        assert "This e-mail is already registered" in response.content.decode()
        assert not User.objects.filter(member_name="carol").exists()

    def test_the_mobile_is_stored_in_international_form(self, as_user, admin_member):
        as_user(admin_member).post(CREATE, create_data(mobile="+86 138-1234-5678"))
        assert User.objects.get(member_name="carol").mobile == "+8613812345678"

    def test_a_member_abroad_registers_a_foreign_mobile(self, as_user, admin_member):
        as_user(admin_member).post(CREATE, create_data(mobile="+44 7911 123456"))
        assert User.objects.get(member_name="carol").mobile == "+447911123456"

    @pytest.mark.parametrize("variant", ["+8613812345678", "+86 138 1234 5678", " +86-138-1234-5678 "])
    def test_a_mobile_registered_in_another_format_is_refused(self, as_user, admin_member, variant):
        f.MemberFactory(partner=admin_member.partner, member_name="first", mobile="+8613812345678")
        response = as_user(admin_member).post(CREATE, create_data(mobile=variant))
        assert "This mobile is already registered. Remove it from the other account first" in response.content.decode()
        assert not User.objects.filter(member_name="carol").exists()

    @pytest.mark.parametrize(
        "mobile, message",
        [
            ("13812345678", "international form"),
            ("+86 12", "not a valid mobile number"),
            ("+86 10 6552 9988", "not a valid mobile number"),  # a Beijing landline
            ("call me", "international form"),
        ],
    )
    def test_a_mobile_that_is_not_an_international_mobile_number_is_refused(
        self, as_user, admin_member, mobile, message
    ):
        response = as_user(admin_member).post(CREATE, create_data(mobile=mobile))
        assert response.status_code == 200
        assert message in response.content.decode()
        assert not User.objects.filter(member_name="carol").exists()

    def test_a_member_name_taken_in_the_partner_is_refused(self, as_user, admin_member, viewer):
        response = as_user(admin_member).post(CREATE, create_data(member_name="viewer"))
        assert "This member user name is taken in your organization." in response.content.decode()
        assert User.objects.filter(member_name="viewer").count() == 1

    def test_the_same_member_name_in_another_partner_is_fine(self, as_user, admin_member, other_member):
        as_user(admin_member).post(CREATE, create_data(member_name=other_member.member_name))
        assert User.objects.filter(member_name=other_member.member_name).count() == 2

    def test_a_weak_or_mismatched_password_is_refused(self, as_user, admin_member):
        client = as_user(admin_member)
        weak = client.post(CREATE, create_data(password1="password", password2="password"))
        assert "too common" in weak.content.decode()
        mismatched = client.post(CREATE, create_data(password2="Other-pass-2026!"))
        assert "The two passwords differ." in mismatched.content.decode()
        assert not User.objects.filter(member_name="carol").exists()

    def test_a_role_of_another_partner_is_not_offered(self, as_user, admin_member, other_partner):
        foreign = Role.objects.create(partner=other_partner, name="Theirs")
        response = as_user(admin_member).post(CREATE, create_data(roles=[foreign.pk]))
        assert "Select a valid choice" in response.content.decode()
        assert not User.objects.filter(member_name="carol").exists()

    def test_nonsense_input_is_a_form_error_not_a_server_error(self, as_user, admin_member):
        response = as_user(admin_member).post(
            CREATE, {"member_name": "bad name!", "roles": ["x"], "supervisor": "y" * 30, "email": "no"}
        )
        assert response.status_code == 200
        assert not User.objects.filter(member_name="bad name!").exists()


class TestMemberEdit:
    def test_it_changes_name_contact_and_roles_and_records_before_and_after(self, as_user, admin_member, viewer):
        response = as_user(admin_member).post(
            edit_url(viewer),
            edit_data(viewer, display_name="Vic V", mobile="+8613900001111", roles=[role("finance").pk]),
        )
        assert response.status_code == 302
        viewer.refresh_from_db()
        assert viewer.display_name == "Vic V" and viewer.mobile == "+8613900001111"
        assert viewer.has_perm("customers.allocate_funds")
        record = records("member.updated").get()
        assert record.before["roles"] == ["Read-only"] and record.after["roles"] == ["Finance"]
        assert "email" not in record.after

    def test_the_member_user_name_cannot_change(self, as_user, admin_member, viewer):
        as_user(admin_member).post(edit_url(viewer), edit_data(viewer, member_name="renamed"))
        viewer.refresh_from_db()
        assert viewer.member_name == "viewer" and viewer.username == "acme:viewer"

    def test_keeping_your_own_email_in_another_case_is_not_a_duplicate(self, as_user, admin_member, viewer):
        as_user(admin_member).post(edit_url(viewer), edit_data(viewer, email=viewer.email.upper()))
        viewer.refresh_from_db()
        assert viewer.email.lower() == "viewer@acme.example.com"

    def test_taking_another_accounts_email_is_refused(self, as_user, admin_member, viewer, customer_user):
        before = viewer.email
        response = as_user(admin_member).post(edit_url(viewer), edit_data(viewer, email=f" {customer_user.email} "))
        assert "This e-mail is already registered" in response.content.decode()
        viewer.refresh_from_db()
        assert viewer.email == before
        assert not records("member.updated").exists()

    def test_another_partners_member_is_a_404(self, as_user, admin_member, other_member):
        assert as_user(admin_member).get(edit_url(other_member)).status_code == 404

    def test_a_supervisor_is_set_on_a_customer_manager(self, as_user, admin_member, partner, supervisor):
        cm = f.MemberFactory(partner=partner, member_name="cm", roles=["customer_manager"])
        as_user(admin_member).post(edit_url(cm), edit_data(cm, supervisor=supervisor.pk))
        cm.refresh_from_db()
        assert cm.supervisor == supervisor

    def test_only_a_customer_manager_has_a_supervisor(self, as_user, admin_member, viewer, supervisor):
        response = as_user(admin_member).post(edit_url(viewer), edit_data(viewer, supervisor=supervisor.pk))
        assert "Only a customer manager has a supervisor." in response.content.decode()
        viewer.refresh_from_db()
        assert viewer.supervisor is None

    def test_a_supervisor_must_hold_the_supervisor_role(self, admin_member, partner, viewer):
        cm = f.MemberFactory(partner=partner, member_name="cm", roles=["customer_manager"])
        with pytest.raises(ValidationError) as caught:
            services.member_update(
                actor=admin_member, member=cm, display_name="cm", email=cm.email, mobile="",
                roles=[role("customer_manager")], supervisor=viewer,
            )
        assert "supervisor" in caught.value.message_dict
        cm.refresh_from_db()
        assert cm.supervisor is None

    def test_a_supervisor_who_loses_the_role_stops_supervising(self, as_user, admin_member, manager, supervisor):
        as_user(admin_member).post(edit_url(supervisor), edit_data(supervisor, roles=[role("read_only").pk]))
        manager.refresh_from_db()
        assert manager.supervisor is None
        assert records("member.updated").get().before["supervises"] == [manager.pk]


class TestDisableAndEnable:
    def test_a_disabled_member_cannot_sign_in(self, as_user, admin_member, viewer):
        response = as_user(admin_member).post(reverse("organization:member_disable", args=[viewer.pk]))
        assert response.status_code == 302
        viewer.refresh_from_db()
        assert viewer.is_active is False
        refused = sign_in_form("acme", "viewer", f.DEFAULT_PASSWORD)
        assert refused.status_code == 200
        assert "This member has been disabled." in refused.content.decode()
        assert records("member.disabled").get().after == {"member": viewer.pk, "is_active": False}

    def test_a_disabled_members_open_session_ends(self, as_user, admin_member, viewer):
        theirs = Client()
        theirs.force_login(viewer, backend="organization.backends.RolePermissionBackend")
        as_user(admin_member).post(reverse("organization:member_disable", args=[viewer.pk]))
        response = theirs.get(reverse("customers:list"))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))

    def test_an_enabled_member_signs_in_again(self, as_user, admin_member, viewer):
        User.objects.filter(pk=viewer.pk).update(is_active=False)
        as_user(admin_member).post(reverse("organization:member_enable", args=[viewer.pk]))
        assert sign_in_form("acme", "viewer", f.DEFAULT_PASSWORD).status_code == 302
        assert records("member.enabled").count() == 1

    @pytest.mark.parametrize(
        "target, refusal",
        [("self", "You cannot disable yourself."), ("partner_admin", "The partner administrator cannot be disabled.")],
    )
    def test_you_cannot_disable_yourself_nor_the_partner_administrator(
        self, as_user, admin_member, partner, target, refusal
    ):
        second_admin = f.MemberFactory(partner=partner, member_name="admin2")
        member = second_admin if target == "self" else admin_member
        response = as_user(second_admin).post(reverse("organization:member_disable", args=[member.pk]), follow=True)
        assert refusal in response.content.decode()
        member.refresh_from_db()
        assert member.is_active and not records("member.disabled").exists()

    def test_disabling_twice_has_one_effect(self, as_user, admin_member, viewer):
        client = as_user(admin_member)
        url = reverse("organization:member_disable", args=[viewer.pk])
        client.post(url)
        response = client.post(url, follow=True)
        assert "This member is already disabled." in response.content.decode()
        assert records("member.disabled").count() == 1


class TestPasswordReset:
    def test_the_new_password_works_and_the_members_sessions_end(self, as_user, admin_member, viewer):
        theirs = Client()
        theirs.force_login(viewer, backend="organization.backends.RolePermissionBackend")
        response = as_user(admin_member).post(
            reverse("organization:member_reset_password", args=[viewer.pk]),
            {"password1": PASSWORD, "password2": PASSWORD},
        )
        assert response.status_code == 302
        assert SESSION_KEY not in theirs.get(reverse("customers:list")).wsgi_request.session
        assert sign_in_form("acme", "viewer", PASSWORD).status_code == 302
        assert records("member.password_reset").get().after == {"member": viewer.pk}

    def test_a_member_cannot_take_over_a_more_powerful_member(self, as_user, admin_member, partner):
        hr_role = role_with(partner, "organization.manage_members")
        hr = f.MemberFactory(partner=partner, member_name="hr", roles=[hr_role])
        response = as_user(hr).post(
            reverse("organization:member_reset_password", args=[admin_member.pk]),
            {"password1": PASSWORD, "password2": PASSWORD},
        )
        assert "You cannot manage a member who holds permissions you do not hold yourself." in response.content.decode()
        admin_member.refresh_from_db()
        assert admin_member.check_password(f.DEFAULT_PASSWORD)
        assert not records("member.password_reset").exists()


class TestCustomerManagerAssignment:
    @pytest.fixture
    def customers(self, partner):
        made = [f.CustomerFactory(account_name=f"c{i}") for i in range(3)]
        for c in made:
            f.AssociationFactory(partner=partner, customer=c)
        return made

    def test_many_customers_get_a_manager_from_the_list(self, as_user, admin_member, manager, customers):
        client = as_user(admin_member)
        response = client.post(
            ASSIGN, {"customers": [c.pk for c in customers[:2]], "manager": manager.pk, "next": "/customers/?q=c"}
        )
        assert response.status_code == 302 and response["Location"] == "/customers/?q=c"
        assert set(Customer.objects.filter(manager=manager).values_list("account_name", flat=True)) == {"c0", "c1"}
        assignments = records("customer.manager_assigned")
        assert assignments.count() == 2
        assert {r.customer.account_name for r in assignments} == {"c0", "c1"}
        assert all(r.after == {"manager": manager.pk} and r.association is not None for r in assignments)

    def test_only_active_managers_are_offered(self, as_user, admin_member, manager, customers):
        option = f'<option value="{manager.pk}">'
        assert option in as_user(admin_member).get(reverse("customers:list")).content.decode()
        User.objects.filter(pk=manager.pk).update(is_active=False)
        assert option not in as_user(admin_member).get(reverse("customers:list")).content.decode()

    def test_the_manager_then_sees_exactly_those_customers(self, as_user, admin_member, manager, customers):
        as_user(admin_member).post(ASSIGN, {"customers": [customers[0].pk], "manager": manager.pk})
        body = as_user(manager).get(reverse("customers:list")).content.decode()
        # The account names as the rows show them (a bare "c1" can turn up in a CSRF token).
        assert '">c0</div>' in body and '">c1</div>' not in body and '">c2</div>' not in body

    def test_choosing_no_manager_takes_the_customers_away(self, as_user, admin_member, manager, customers):
        Customer.objects.filter(pk=customers[0].pk).update(manager=manager)
        as_user(admin_member).post(ASSIGN, {"customers": [customers[0].pk], "manager": ""})
        customers[0].refresh_from_db()
        assert customers[0].manager is None
        assert records("customer.manager_assigned").get().before == {"manager": manager.pk}

    def test_another_partners_customer_refuses_the_whole_assignment(
        self, as_user, admin_member, manager, customers, other_partner
    ):
        foreign = f.CustomerFactory(account_name="foreign")
        f.AssociationFactory(partner=other_partner, customer=foreign)
        response = as_user(admin_member).post(
            ASSIGN, {"customers": [customers[0].pk, foreign.pk], "manager": manager.pk}, follow=True
        )
        assert "Some of the chosen customers are no longer associated with you" in response.content.decode()
        assert not Customer.objects.filter(manager=manager).exists()
        assert not records("customer.manager_assigned").exists()

    def test_only_a_member_with_a_manager_role_can_be_assigned(self, as_user, admin_member, viewer, customers):
        data = {"customers": [customers[0].pk], "manager": viewer.pk}
        response = as_user(admin_member).post(ASSIGN, data, follow=True)
        assert "Select a valid choice" in response.content.decode()
        assert not Customer.objects.filter(manager=viewer).exists()

    def test_a_disabled_manager_cannot_be_assigned(self, admin_member, manager, customers):
        User.objects.filter(pk=manager.pk).update(is_active=False)
        with pytest.raises(ValidationError):
            services.customer_manager_assign(actor=admin_member, customer_ids=[customers[0].pk], manager=manager)
        assert not Customer.objects.filter(manager=manager).exists()

    @pytest.mark.parametrize("ids", [["x"], ["-1"], [str(2**70)], []])
    def test_bad_customer_ids_are_a_message_not_an_error(self, as_user, admin_member, manager, customers, ids):
        response = as_user(admin_member).post(ASSIGN, {"customers": ids, "manager": manager.pk}, follow=True)
        assert response.status_code == 200
        assert not Customer.objects.filter(manager=manager).exists()

    def test_an_outside_next_address_is_not_followed(self, as_user, admin_member, manager, customers):
        response = as_user(admin_member).post(
            ASSIGN, {"customers": [customers[0].pk], "manager": manager.pk, "next": "https://evil.example.com/"}
        )
        assert response["Location"] == reverse("customers:list")

    def test_the_list_offers_the_bulk_form_only_with_the_permission(self, as_user, admin_member, viewer, customers):
        assert 'form="assign-manager"' in as_user(admin_member).get(reverse("customers:list")).content.decode()
        assert 'form="assign-manager"' not in as_user(viewer).get(reverse("customers:list")).content.decode()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_partners_registering_the_same_email_at_once_end_with_one_member():
    f.default_password_hash.cache_clear()
    partners = [f.PartnerFactory(account_name=f"race{i}") for i in range(2)]
    admins = [f.MemberFactory(partner=p, member_name="admin", email=f"admin@race{i}.example.com") for i, p in
              enumerate(partners)]
    read_only = role("read_only")
    barrier = threading.Barrier(2)
    outcomes = []

    def create(admin):
        try:
            barrier.wait()
            services.member_create(
                actor=admin, partner=admin.partner, member_name="dup", email=" Same@Example.com",
                password=PASSWORD, roles=[read_only],
            )
            outcomes.append("created")
        except ValidationError as exc:
            outcomes.append(exc.message_dict["email"][0])
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(a,)) for a in admins]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("created") == 1
    assert "This e-mail is already registered" in [o for o in outcomes if o != "created"][0]
    assert User.objects.filter(email__iexact="same@example.com").count() == 1
    assert OperationRecord.objects.filter(event="member.created", after__member_name="dup").count() == 1
