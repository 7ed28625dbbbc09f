"""Partner info › Basic info (SPEC R21): every member edits their own name, e-mail and mobile
and changes their password, which ends their other sessions."""
import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

from audit.models import OperationRecord
from organization.models import User
from partnercenter import factories as f

PROFILE = reverse("organization:profile")
PASSWORD = reverse("organization:password_change")
NEW = "Brand-new-pass-2026!"


def profile_data(member, **overrides):
    data = {"display_name": member.display_name, "email": member.email, "mobile": member.mobile}
    data.update(overrides)
    return data


def signed_in(member):
    client = Client()
    client.force_login(member, backend="organization.backends.RolePermissionBackend")
    return client


class TestProfile:
    def test_every_member_sees_their_partner_and_profile(self, as_user, member_without_permission, partner):
        response = as_user(member_without_permission).get(PROFILE)
        assert response.status_code == 200
        body = response.content.decode()
        assert partner.name in body and partner.account_name in body and "nobody" in body

    def test_a_member_changes_name_email_and_mobile_with_a_record(self, as_user, viewer):
        response = as_user(viewer).post(
            PROFILE, profile_data(viewer, display_name="Victor", email="Victor@Example.ORG", mobile="+1 650 253 0000")
        )
        assert response.status_code == 302
        viewer.refresh_from_db()
        assert (viewer.display_name, viewer.email, viewer.mobile) == ("Victor", "Victor@example.org", "+16502530000")
        record = OperationRecord.objects.get(event="profile.updated")
        assert record.actor == viewer
        assert set(record.after) == {"display_name", "email", "mobile"}

    @pytest.mark.parametrize("variant", ["ADMIN@acme.example.com", " admin@acme.example.com  "])
    def test_an_email_of_another_account_in_any_case_is_refused(self, as_user, viewer, admin_member, variant):
        before = viewer.email
        response = as_user(viewer).post(PROFILE, profile_data(viewer, email=variant))
        assert "This e-mail is already registered. Remove it from the other account first" in response.content.decode()
        viewer.refresh_from_db()
        assert viewer.email == before
        assert not OperationRecord.objects.filter(event="profile.updated").exists()

    def test_a_mobile_of_another_account_in_another_format_is_refused(self, as_user, viewer, admin_member):
        User.objects.filter(pk=admin_member.pk).update(mobile="+8613812345678")
        response = as_user(viewer).post(PROFILE, profile_data(viewer, mobile="+86 (138) 1234-5678"))
        assert "This mobile is already registered." in response.content.decode()
        viewer.refresh_from_db()
        assert viewer.mobile == ""

    def test_a_mobile_without_country_code_is_refused(self, as_user, viewer):
        response = as_user(viewer).post(PROFILE, profile_data(viewer, mobile="138 1234 5678"))
        assert "international form" in response.content.decode()
        viewer.refresh_from_db()
        assert viewer.mobile == ""

    def test_saving_without_a_change_writes_no_record(self, as_user, viewer):
        as_user(viewer).post(PROFILE, profile_data(viewer))
        assert not OperationRecord.objects.filter(event="profile.updated").exists()

    def test_a_customer_gets_no_access(self, as_user, customer_user):
        response = as_user(customer_user).get(PROFILE)
        assert response.status_code == 403
        assert "No access" in response.content.decode()


class TestPasswordChange:
    def test_changing_the_password_ends_the_other_sessions_and_keeps_this_one(self, viewer):
        here, elsewhere = signed_in(viewer), signed_in(viewer)
        assert elsewhere.get(PROFILE).status_code == 200
        response = here.post(PASSWORD, {"old_password": f.DEFAULT_PASSWORD, "password1": NEW, "password2": NEW})
        assert response.status_code == 302
        assert here.get(PROFILE).status_code == 200
        ended = elsewhere.get(PROFILE)
        assert ended.status_code == 302 and ended["Location"].startswith(reverse("login"))
        assert SESSION_KEY not in elsewhere.session
        viewer.refresh_from_db()
        assert viewer.check_password(NEW)
        assert OperationRecord.objects.get(event="profile.password_changed").actor == viewer

    def test_a_wrong_current_password_changes_nothing(self, viewer):
        here, elsewhere = signed_in(viewer), signed_in(viewer)
        response = here.post(PASSWORD, {"old_password": "wrong-one", "password1": NEW, "password2": NEW})
        assert "Your current password is not correct." in response.content.decode()
        viewer.refresh_from_db()
        assert viewer.check_password(f.DEFAULT_PASSWORD)
        assert elsewhere.get(PROFILE).status_code == 200
        assert not OperationRecord.objects.filter(event="profile.password_changed").exists()

    def test_a_weak_new_password_is_refused(self, viewer):
        response = signed_in(viewer).post(
            PASSWORD, {"old_password": f.DEFAULT_PASSWORD, "password1": "12345678", "password2": "12345678"}
        )
        assert "This password is entirely numeric." in response.content.decode()
        viewer.refresh_from_db()
        assert viewer.check_password(f.DEFAULT_PASSWORD)
