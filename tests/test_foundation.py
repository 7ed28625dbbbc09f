"""Models, permissions, settings and project-wide behaviour of the foundation."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from audit.models import AppendOnlyError, OperationRecord
from customers.models import Association
from organization.models import Partner, Role, User
from partnercenter import factories as f

ROOT = Path(__file__).resolve().parent.parent


def test_a_second_active_association_is_refused_by_the_database(customer, other_partner):
    with pytest.raises(IntegrityError), transaction.atomic():
        Association.objects.create(partner=other_partner, customer=customer, type="referral", origin="invitation")


def test_ended_associations_stay_as_history(customer, partner, other_partner):
    Association.objects.filter(customer=customer).update(
        status="ended", ended_at="2026-01-01T00:00:00Z", end_reason="unbind"
    )
    Association.objects.create(partner=other_partner, customer=customer, type="referral", origin="invitation")
    assert Association.objects.filter(customer=customer).count() == 2


def test_a_reseller_needs_a_distributor(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        Partner.objects.create(account_name="lonely", name="Lonely", kind="reseller")


def test_a_partner_balance_cannot_go_negative(partner):
    with pytest.raises(IntegrityError), transaction.atomic():
        Partner.objects.filter(pk=partner.pk).update(balance=-1)


def test_member_names_are_unique_within_a_partner_only(partner, other_partner):
    f.MemberFactory(partner=partner, member_name="alice")
    f.MemberFactory(partner=other_partner, member_name="alice")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="acme:alice2", kind="member", partner=partner, member_name="alice")


def test_emails_are_unique_ignoring_case(partner):
    f.MemberFactory(partner=partner, member_name="a", email="Same@Example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        f.CustomerUserFactory(username="c", email="same@example.COM")


def test_roles_grant_permissions_through_the_backend(partner, admin_member, viewer, member_without_permission):
    assert admin_member.has_perm("customers.unbind_association")
    assert admin_member.has_perm("organization.manage_roles")
    assert viewer.has_perm("customers.view_customer")
    assert not viewer.has_perm("customers.allocate_funds")
    assert not member_without_permission.has_perm("customers.view_customer")


def test_a_member_has_no_admin_site_access(as_user, admin_member):
    response = as_user(admin_member).get("/admin/")
    assert response.status_code == 302


def test_customers_have_no_portal_permissions(customer_user):
    assert customer_user.get_all_permissions() == set()


def test_the_builtin_roles_exist_with_their_permissions(db):
    keys = set(Role.objects.exclude(builtin="").values_list("builtin", flat=True))
    assert keys == {"system_admin", "customer_manager", "customer_manager_supervisor", "finance", "read_only"}
    from organization.permissions import ALL_PORTAL_PERMISSIONS

    held = Role.objects.get(builtin="system_admin").permissions.values_list("content_type__app_label", "codename")
    assert sorted(f"{app}.{codename}" for app, codename in held) == sorted(ALL_PORTAL_PERMISSIONS)
    assert len(ALL_PORTAL_PERMISSIONS) == 18  # the 15 of issue 6, manage webhooks (19), freeze and budgets (20)


def test_every_response_carries_a_request_id(client, db):
    response = client.get(reverse("login"))
    assert len(response["X-Request-ID"]) == 32
    kept = client.get(reverse("login"), HTTP_X_REQUEST_ID="abc12345-trace")
    assert kept["X-Request-ID"] == "abc12345-trace"
    forged = client.get(reverse("login"), HTTP_X_REQUEST_ID="<script>")
    assert forged["X-Request-ID"] != "<script>"


def test_operation_records_refuse_change_and_delete(partner, admin_member):
    from audit.services import record

    with transaction.atomic():
        rec = record(event="member.updated", actor=admin_member, partner=partner)
    rec.reason = "edited"
    with pytest.raises(AppendOnlyError):
        rec.save()
    with pytest.raises(AppendOnlyError):
        rec.delete()
    with pytest.raises(AppendOnlyError):
        OperationRecord.objects.filter(pk=rec.pk).update(reason="x")
    with pytest.raises(AppendOnlyError):
        OperationRecord.objects.all().delete()


@pytest.mark.django_db(transaction=True)
def test_a_record_outside_a_transaction_is_a_programming_error(partner):
    from audit.services import record

    with pytest.raises(RuntimeError):
        record(event="member.updated", partner=partner)


def test_custom_error_pages_use_the_layout(as_user, admin_member):
    response = as_user(admin_member).get("/no/such/page/")
    assert response.status_code == 404
    assert b"Partner Center" in response.content and b"Not found" in response.content


def _manage(*args, **env):
    full_env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "DATABASE_URL")}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=120
    )


def test_production_mode_refuses_a_missing_secret_key():
    result = _manage("check", DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_a_bad_boolean_setting_fails_loudly():
    result = _manage("check", DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def test_deploy_check_passes_with_production_settings():
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING",
        DEBUG="false", SECRET_KEY="k" * 30 + "-production-secret-for-the-test-only!",
        ALLOWED_HOSTS="partners.example.com", DATABASE_URL="postgres://postgres@127.0.0.1:5432/unused",
    )
    assert result.returncode == 0, result.stdout + result.stderr
