"""Partner info › API keys: members with the API permission create a key, see it once, and
revoke it; every change is an operation record."""
import re

import pytest
from django.urls import reverse

from api import services
from api.models import ApiKey
from audit.events import Event
from audit.models import OperationRecord
from tests.api_helpers import TOKENS, post_json

LIST = reverse("api_keys:list")
CREATE = reverse("api_keys:create")


def revoke_url(key):
    return reverse("api_keys:revoke", args=[key.pk])


def test_members_with_the_api_permission_see_the_page_and_the_menu(as_user, admin_member):
    response = as_user(admin_member).get(LIST)
    assert response.status_code == 200
    assert b"Create an API key" in response.content
    assert f'href="{LIST}"'.encode() in response.content


def test_members_without_the_api_permission_get_403_and_no_menu(as_user, viewer):
    client = as_user(viewer)
    assert client.get(LIST).status_code == 403
    assert client.post(CREATE, {"name": "x"}).status_code == 403
    assert f'href="{LIST}"'.encode() not in client.get(reverse("customers:list")).content
    assert ApiKey.objects.count() == 0


def test_anonymous_visitors_are_sent_to_sign_in(client, db):
    response = client.get(LIST)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_customer_user_gets_no_access(as_user, customer_user):
    response = as_user(customer_user).get(LIST)
    assert response.status_code == 403 and b"No access" in response.content


def test_a_new_key_is_shown_once_and_stored_only_as_a_digest(as_user, admin_member, client):
    portal = as_user(admin_member)
    response = portal.post(CREATE, {"name": "ERP integration"})
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    raw = re.search(rb'value="(pck_[A-Za-z0-9_-]{43})"', response.content).group(1).decode()
    key = ApiKey.objects.get()
    assert key.name == "ERP integration" and key.created_by == admin_member
    assert key.key_hash != raw and raw not in str(ApiKey.objects.values().get())
    assert raw.encode() not in portal.get(LIST).content
    record = OperationRecord.objects.get(event=Event.API_KEY_CREATED)
    assert record.actor == admin_member and record.after == {"name": "ERP integration", "prefix": raw[:12]}
    assert post_json(client, TOKENS, {"api_key": raw}).status_code == 201


def test_a_key_without_a_name_is_refused_and_nothing_is_created(as_user, admin_member):
    response = as_user(admin_member).post(CREATE, {"name": "  "})
    assert response.status_code == 400
    assert b"This field is required" in response.content
    assert ApiKey.objects.count() == 0
    assert not OperationRecord.objects.filter(event=Event.API_KEY_CREATED).exists()


def test_revoking_a_key_records_it_and_refuses_the_key(as_user, admin_member, client):
    key, raw = services.api_key_create(actor=admin_member, name="ERP")
    response = as_user(admin_member).post(revoke_url(key), follow=True)
    assert b"is revoked" in response.content
    key.refresh_from_db()
    assert key.is_revoked and key.revoked_by == admin_member
    record = OperationRecord.objects.get(event=Event.API_KEY_REVOKED)
    assert record.actor == admin_member and record.after == {"revoked": True}
    assert post_json(client, TOKENS, {"api_key": raw}).status_code == 401


def test_revoking_twice_says_so_and_records_once(as_user, admin_member):
    key, _raw = services.api_key_create(actor=admin_member, name="ERP")
    portal = as_user(admin_member)
    portal.post(revoke_url(key))
    response = portal.post(revoke_url(key), follow=True)
    assert b"already revoked" in response.content
    assert OperationRecord.objects.filter(event=Event.API_KEY_REVOKED).count() == 1


def test_revoking_is_post_only(as_user, admin_member):
    key, _raw = services.api_key_create(actor=admin_member, name="ERP")
    assert as_user(admin_member).get(revoke_url(key)).status_code == 405
    key.refresh_from_db()
    assert not key.is_revoked


def test_another_partners_key_is_404(as_user, admin_member, other_member):
    key, _raw = services.api_key_create(actor=other_member, name="Theirs")
    client = as_user(admin_member)
    assert client.post(revoke_url(key)).status_code == 404
    assert b"Theirs" not in client.get(LIST).content
    key.refresh_from_db()
    assert not key.is_revoked


def test_a_member_sees_and_may_revoke_every_key_of_the_partner(as_user, admin_member, partner):
    from partnercenter import factories as f

    colleague = f.MemberFactory(partner=partner, member_name="colleague")
    key, _raw = services.api_key_create(actor=colleague, name="Colleague's key")
    client = as_user(admin_member)
    assert "Colleague&#x27;s key" in client.get(LIST).content.decode()
    client.post(revoke_url(key))
    key.refresh_from_db()
    assert key.revoked_by == admin_member


@pytest.mark.parametrize("language, text", [("en", "API keys"), ("zh-hans", "API 密钥")])
def test_the_page_is_translated(as_user, admin_member, language, text):
    response = as_user(admin_member).get(LIST, HTTP_ACCEPT_LANGUAGE=language)
    assert text in response.content.decode()
