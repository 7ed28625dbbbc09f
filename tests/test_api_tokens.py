"""API tokens: partner tokens from credentials or API keys, customer tokens by exchange, and
how revoking, disabling and expiry end them at once (SPEC R28)."""
import hashlib
import json
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from api import services
from api.models import ApiKey, ApiToken
from audit.events import Event
from audit.models import OperationRecord
from customers.models import Association, Customer
from partnercenter import factories as f
from partnercenter.factories import DEFAULT_PASSWORD
from tests.api_helpers import (
    CURRENT,
    CUSTOMER_TOKENS,
    CUSTOMERS,
    TOKENS,
    bearer,
    code_of,
    counts,
    isolate_registration_counts,
    partner_token,
    post_json,
    role_with,
)


@pytest.fixture(autouse=True)
def _own_registration_counts(settings):
    isolate_registration_counts(settings)


def credentials(account="acme", member="admin", password=DEFAULT_PASSWORD):
    return {"partner_account": account, "member_name": member, "password": password}


@pytest.fixture
def api_key(admin_member):
    return services.api_key_create(actor=admin_member, name="ERP")


class TestPartnerTokenFromCredentials:
    def test_member_credentials_give_a_partner_token_that_works(self, client, admin_member):
        response = post_json(client, TOKENS, credentials())
        assert response.status_code == 201
        body = response.json()
        assert body["token_type"] == "Bearer" and body["token"].startswith("pct_")
        assert body["partner"]["account_name"] == "acme" and body["member_name"] == "admin"
        assert body["expires_in"] == 3600
        assert response["Cache-Control"] == "no-store"
        me = client.get(CURRENT, **bearer(body["token"]))
        assert me.status_code == 200
        assert me.json()["kind"] == "partner" and me.json()["via_api_key"] is False

    def test_only_a_digest_of_the_token_is_stored(self, client, admin_member):
        raw = post_json(client, TOKENS, credentials()).json()["token"]
        token = ApiToken.objects.get()
        assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
        assert raw not in json.dumps(list(ApiToken.objects.values()), default=str)

    def test_the_partner_account_name_is_not_case_sensitive(self, client, admin_member):
        assert post_json(client, TOKENS, credentials(account="ACME")).status_code == 201

    def test_a_wrong_password_is_refused_and_creates_no_token(self, client, admin_member):
        response = post_json(client, TOKENS, credentials(password="wrong-password"))
        assert response.status_code == 401
        assert code_of(response) == "invalid_credentials"
        assert ApiToken.objects.count() == 0

    def test_a_disabled_member_gets_no_token(self, client, admin_member):
        admin_member.is_active = False
        admin_member.save()
        response = post_json(client, TOKENS, credentials())
        assert response.status_code == 401 and code_of(response) == "invalid_credentials"
        assert ApiToken.objects.count() == 0

    def test_a_member_without_the_api_permission_gets_403(self, client, viewer):
        response = post_json(client, TOKENS, credentials(member="viewer"))
        assert response.status_code == 403 and code_of(response) == "permission_denied"
        assert ApiToken.objects.count() == 0

    def test_password_guessing_is_throttled_like_the_web_sign_in(self, client, admin_member, settings):
        settings.AXES_FAILURE_LIMIT = 3
        for _ in range(2):
            assert post_json(client, TOKENS, credentials(password="guess")).status_code == 401
        assert post_json(client, TOKENS, credentials(password="guess")).status_code == 429
        response = post_json(client, TOKENS, credentials())
        assert response.status_code == 429
        assert response["Content-Type"] == "application/problem+json"
        assert code_of(response) == "too_many_attempts"
        assert ApiToken.objects.count() == 0
        web = client.post(
            "/accounts/login/", {"partner_account": "acme", "member_name": "admin", "password": DEFAULT_PASSWORD}
        )
        assert web.status_code == 429

    @pytest.mark.parametrize(
        "body",
        [
            {},
            {"partner_account": "acme", "member_name": "admin"},
            {**credentials(), "api_key": "pck_" + "a" * 43},
            {**credentials(), "remember": True},
            {"api_key": "not-a-key"},
            {"api_key": 12345},
            {"partner_account": "acme\x00", "member_name": "admin", "password": "x"},
            ["acme", "admin", "password"],
            "a string",
        ],
    )
    def test_a_malformed_body_is_400_with_the_fields_named(self, client, admin_member, body):
        response = post_json(client, TOKENS, body)
        assert response.status_code == 400
        assert code_of(response) == "validation_failed"
        assert ApiToken.objects.count() == 0

    def test_a_body_that_is_too_large_is_400(self, client, db, settings):
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
        response = post_json(client, TOKENS, credentials(password="x" * 2000))
        assert response.status_code == 400 and code_of(response) == "invalid_json"
        assert ApiToken.objects.count() == 0

    def test_a_body_that_is_not_json_is_400(self, client, db):
        response = client.post(TOKENS, data=b"{not json", content_type="application/json")
        assert response.status_code == 400 and code_of(response) == "invalid_json"
        deep = client.post(TOKENS, data=b"[" * 100000, content_type="application/json")
        assert deep.status_code == 400 and code_of(deep) == "invalid_json"

    def test_field_errors_are_in_the_callers_language(self, client, db):
        response = post_json(client, TOKENS, {"api_key": "nope"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert response.json()["errors"]["api_key"] == ["这不是 API 密钥：密钥以 pck_ 开头，长 47 个字符。"]


class TestPartnerTokenFromApiKey:
    def test_an_api_key_gives_a_token_acting_as_its_creator(self, client, api_key):
        key, raw = api_key
        response = post_json(client, TOKENS, {"api_key": raw})
        assert response.status_code == 201
        assert response.json()["member_name"] == "admin"
        me = client.get(CURRENT, **bearer(response.json()["token"])).json()
        assert me["via_api_key"] is True
        key.refresh_from_db()
        assert key.last_used_at is not None

    def test_an_unknown_key_is_refused(self, client, api_key):
        response = post_json(client, TOKENS, {"api_key": "pck_" + "b" * 43})
        assert response.status_code == 401 and code_of(response) == "invalid_credentials"
        assert ApiToken.objects.count() == 0

    def test_a_revoked_key_is_refused_and_its_tokens_stop_at_once(self, client, admin_member, customer, api_key):
        key, raw = api_key
        token = post_json(client, TOKENS, {"api_key": raw}).json()["token"]
        customer_token = post_json(
            client, CUSTOMER_TOKENS, {"customer_id": customer.pk, "role": "readonly"}, **bearer(token)
        ).json()["token"]
        other_token = partner_token(admin_member)  # by password: not derived from the key
        services.api_key_revoke(actor=admin_member, api_key=key)

        tokens_before = ApiToken.objects.count()
        refused = post_json(client, TOKENS, {"api_key": raw})
        assert refused.status_code == 401 and code_of(refused) == "invalid_credentials"
        assert ApiToken.objects.count() == tokens_before
        for derived in (token, customer_token):
            response = client.get(CURRENT, **bearer(derived))
            assert response.status_code == 401 and code_of(response) == "token_revoked"
        assert client.get(CURRENT, **bearer(other_token)).status_code == 200

    def test_a_key_of_a_disabled_member_is_refused(self, client, admin_member, api_key):
        admin_member.is_active = False
        admin_member.save()
        response = post_json(client, TOKENS, {"api_key": api_key[1]})
        assert response.status_code == 401 and code_of(response) == "invalid_credentials"
        assert ApiToken.objects.count() == 0

    def test_a_key_whose_member_lost_the_api_permission_gets_403(self, client, admin_member, partner, api_key):
        admin_member.roles.set([role_with(partner, "customers.view_customer")])
        response = post_json(client, TOKENS, {"api_key": api_key[1]})
        assert response.status_code == 403 and code_of(response) == "permission_denied"
        assert ApiToken.objects.count() == 0


class TestUsingTokens:
    def test_disabling_the_member_ends_their_tokens_at_once(self, client, admin_member):
        raw = partner_token(admin_member)
        assert client.get(CUSTOMERS, **bearer(raw)).status_code == 200
        admin_member.is_active = False
        admin_member.save()
        response = client.get(CUSTOMERS, **bearer(raw))
        assert response.status_code == 401 and code_of(response) == "token_revoked"

    def test_losing_the_api_permission_ends_access_at_once(self, client, admin_member, partner):
        raw = partner_token(admin_member)
        admin_member.roles.set([role_with(partner, "customers.view_customer")])
        response = client.get(CUSTOMERS, **bearer(raw))
        assert response.status_code == 403 and code_of(response) == "permission_denied"

    def test_a_partner_token_expires_after_its_lifetime(self, client, admin_member, settings, monkeypatch):
        settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "PARTNER_TOKEN_TTL_SECONDS": 600}
        raw = partner_token(admin_member)
        start = timezone.now()
        monkeypatch.setattr("api.auth.timezone.now", lambda: start + timedelta(seconds=590))
        assert client.get(CURRENT, **bearer(raw)).status_code == 200
        monkeypatch.setattr("api.auth.timezone.now", lambda: start + timedelta(seconds=601))
        response = client.get(CURRENT, **bearer(raw))
        assert response.status_code == 401 and code_of(response) == "token_expired"
        assert response["WWW-Authenticate"].startswith("Bearer")

    def test_getting_a_token_clears_the_members_expired_ones(self, client, admin_member):
        old = ApiToken.objects.get(token_hash=hashlib.sha256(partner_token(admin_member).encode()).hexdigest())
        ApiToken.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        partner_token(admin_member)
        assert not ApiToken.objects.filter(pk=old.pk).exists()
        assert ApiToken.objects.count() == 1

    @pytest.mark.parametrize(
        "header, code",
        [
            (None, "not_authenticated"),
            ("Bearer", "not_authenticated"),
            ("Basic YWRtaW46cGFzcw==", "not_authenticated"),
            ("Bearer pct_unknown", "token_invalid"),
        ],
    )
    def test_a_missing_or_unknown_token_is_401(self, client, admin_member, header, code):
        extra = {"HTTP_AUTHORIZATION": header} if header else {}
        response = client.get(CUSTOMERS, **extra)
        assert response.status_code == 401
        assert code_of(response) == code
        assert response["WWW-Authenticate"].startswith("Bearer")

    def test_a_signed_in_session_is_not_enough(self, as_user, admin_member):
        response = as_user(admin_member).get(CUSTOMERS)
        assert response.status_code == 401 and code_of(response) == "not_authenticated"

    def test_bearer_requests_need_no_csrf_token(self, admin_member):
        client = Client(enforce_csrf_checks=True)
        response = post_json(
            client,
            CUSTOMERS,
            {"account_name": "no-csrf", "name": "No CSRF", "email": "no-csrf@example.com"},
            **bearer(partner_token(admin_member)),
        )
        assert response.status_code == 201

    def test_a_customer_token_is_not_a_partner_token(self, client, admin_member, customer):
        raw = services.customer_token_create(
            partner_token=ApiToken.objects.get(token_hash=_digest(partner_token(admin_member))),
            customer=customer,
            role="te_admin",
        )[1]
        response = client.get(CUSTOMERS, **bearer(raw))
        assert response.status_code == 403 and code_of(response) == "partner_token_required"

    def test_other_methods_are_405_with_allow(self, client, admin_member):
        response = client.delete(CUSTOMERS, **bearer(partner_token(admin_member)))
        assert response.status_code == 405
        assert code_of(response) == "method_not_allowed"
        assert response["Allow"] == "GET, POST"
        assert client.get(TOKENS).status_code == 405

    def test_an_unknown_api_address_is_a_json_404(self, client, db):
        for response in (client.get("/api/nothing/here"), post_json(client, "/api/nothing", {})):
            assert response.status_code == 404 and code_of(response) == "not_found"


def _digest(raw):
    return hashlib.sha256(raw.encode()).hexdigest()


class TestCustomerTokenExchange:
    @pytest.fixture
    def token(self, admin_member):
        return partner_token(admin_member)

    @pytest.mark.parametrize("role", ["te_admin", "readonly"])
    def test_a_reseller_customer_can_be_exchanged_for(self, client, token, customer, admin_member, role):
        response = post_json(client, CUSTOMER_TOKENS, {"customer_id": customer.pk, "role": role}, **bearer(token))
        assert response.status_code == 201
        body = response.json()
        assert body["role"] == role and body["token"].startswith("pcc_")
        assert body["customer"] == {"id": customer.pk, "account_name": "cust-one", "name": "Customer One"}
        assert body["expires_in"] == 3600
        me = client.get(CURRENT, **bearer(body["token"])).json()
        assert me["kind"] == "customer" and me["role"] == role and me["customer"]["id"] == customer.pk

        exchanged = OperationRecord.objects.get(event=Event.TOKEN_EXCHANGED)
        assert exchanged.actor == admin_member and exchanged.customer == customer
        assert exchanged.partner_id == admin_member.partner_id
        assert exchanged.association == Association.objects.get(customer=customer)
        assert exchanged.after["role"] == role
        assert body["token"] not in json.dumps(exchanged.after)

    def test_the_customer_token_lifetime_is_a_setting(self, client, token, customer, settings, monkeypatch):
        settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "CUSTOMER_TOKEN_TTL_SECONDS": 120}
        response = post_json(client, CUSTOMER_TOKENS, {"customer_id": customer.pk, "role": "readonly"}, **bearer(token))
        assert response.json()["expires_in"] == 120
        start = timezone.now()
        monkeypatch.setattr("api.auth.timezone.now", lambda: start + timedelta(seconds=121))
        expired = client.get(CURRENT, **bearer(response.json()["token"]))
        assert expired.status_code == 401 and code_of(expired) == "token_expired"

    def test_a_referral_customer_is_refused(self, client, token, partner):
        referral = f.CustomerFactory(account_name="ref-1")
        f.AssociationFactory(partner=partner, customer=referral, type="referral")
        before = counts()
        response = post_json(client, CUSTOMER_TOKENS, {"customer_id": referral.pk, "role": "readonly"}, **bearer(token))
        assert response.status_code == 409 and code_of(response) == "customer_is_referral"
        assert "ref-1" in response.json()["detail"]
        assert counts() == before

    def test_a_customer_whose_association_ended_is_refused(self, client, token, customer):
        Association.objects.filter(customer=customer).update(
            status="ended", ended_at=timezone.now(), end_reason="unbind"
        )
        before = counts()
        response = post_json(client, CUSTOMER_TOKENS, {"customer_id": customer.pk, "role": "readonly"}, **bearer(token))
        assert response.status_code == 409 and code_of(response) == "association_ended"
        assert counts() == before

    def test_another_partners_customer_is_not_found(self, client, token, other_partner):
        foreign = f.CustomerFactory(account_name="foreign-1")
        f.AssociationFactory(partner=other_partner, customer=foreign, type="reseller")
        before = counts()
        for customer_id in (foreign.pk, 987654321):
            response = post_json(
                client, CUSTOMER_TOKENS, {"customer_id": customer_id, "role": "readonly"}, **bearer(token)
            )
            assert response.status_code == 404 and code_of(response) == "customer_not_found"
        assert counts() == before

    def test_a_distributor_cannot_exchange_for_its_resellers_customer(self, client, db):
        distributor = f.DistributorFactory(account_name="dist")
        reseller = f.ResellerFactory(account_name="res", distributor=distributor)
        theirs = f.CustomerFactory(account_name="res-cust")
        f.AssociationFactory(partner=reseller, customer=theirs, type="reseller")
        token = partner_token(f.MemberFactory(partner=distributor, member_name="admin"))
        response = post_json(client, CUSTOMER_TOKENS, {"customer_id": theirs.pk, "role": "readonly"}, **bearer(token))
        assert response.status_code == 404

    def test_the_customer_token_dies_with_the_association(self, client, token, customer):
        raw = post_json(
            client, CUSTOMER_TOKENS, {"customer_id": customer.pk, "role": "te_admin"}, **bearer(token)
        ).json()["token"]
        Association.objects.filter(customer=customer).update(type="referral")
        response = client.get(CURRENT, **bearer(raw))
        assert response.status_code == 401 and code_of(response) == "token_revoked"

    def test_it_needs_the_view_customers_permission(self, client, partner, customer):
        api_only = role_with(partner, "organization.use_api")
        member = f.MemberFactory(partner=partner, member_name="api-only", roles=[api_only])
        token = partner_token(member)
        before = counts()
        response = post_json(client, CUSTOMER_TOKENS, {"customer_id": customer.pk, "role": "readonly"}, **bearer(token))
        assert response.status_code == 403 and code_of(response) == "permission_denied"
        assert counts() == before

    @pytest.mark.parametrize(
        "body",
        [
            {"customer_id": "1", "role": "readonly"},
            {"customer_id": True, "role": "readonly"},
            {"customer_id": 1.5, "role": "readonly"},
            {"customer_id": 0, "role": "readonly"},
            {"customer_id": 2**63, "role": "readonly"},
            {"customer_id": 1, "role": "admin"},
            {"customer_id": 1},
            {"customer_id": 1, "role": "readonly", "ttl": 99999},
        ],
    )
    def test_a_malformed_exchange_is_400(self, client, token, customer, body):
        before = counts()
        response = post_json(client, CUSTOMER_TOKENS, body, **bearer(token))
        assert response.status_code == 400 and code_of(response) == "validation_failed"
        assert counts() == before


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_exchange_waits_for_a_concurrent_unbind_and_is_then_refused():
    partner = f.PartnerFactory(account_name="race-p")
    member = f.MemberFactory(partner=partner, member_name="admin")
    customer = f.CustomerFactory(account_name="race-c")
    f.AssociationFactory(partner=partner, customer=customer, type="reseller")
    token = ApiToken.objects.get(token_hash=_digest(partner_token(member)))
    locked, outcome = threading.Event(), {}

    def unbind():
        # What an unbind does to the rows, in the same lock order (partner, then customer).
        try:
            with transaction.atomic():
                type(partner).objects.select_for_update().get(pk=partner.pk)
                Customer.objects.select_for_update().get(pk=customer.pk)
                locked.set()
                time.sleep(0.5)
                Association.objects.filter(customer=customer).update(
                    status="ended", ended_at=timezone.now(), end_reason="unbind"
                )
        finally:
            connection.close()

    def exchange():
        locked.wait(5)
        try:
            services.customer_token_create(partner_token=token, customer=customer, role="te_admin")
            outcome["result"] = "issued"
        except Exception as exc:  # the refusal is what this test looks for
            outcome["result"] = getattr(exc, "code", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=unbind), threading.Thread(target=exchange)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert outcome["result"] == "association_ended"
    assert not ApiToken.objects.filter(kind="customer").exists()
    assert not OperationRecord.objects.filter(event=Event.TOKEN_EXCHANGED).exists()


def test_api_keys_are_stored_as_digests(api_key):
    key, raw = api_key
    stored = ApiKey.objects.get(pk=key.pk)
    assert stored.key_hash == _digest(raw)
    assert raw not in json.dumps(list(ApiKey.objects.values()), default=str)
    assert stored.prefix == raw[:12]
