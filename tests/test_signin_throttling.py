"""Password guessing is limited per account and, separately, per client address (issue 15,
items 1 and 2): a success on one account resets nothing for another, every place that checks
a password counts against the same account, and behind trusted proxies each client has its
own address."""
import uuid
from decimal import Decimal

import pytest
from django.core.cache import caches
from django.test import Client, override_settings
from django.urls import reverse

from api.models import ApiToken
from audit.models import OperationRecord
from organization.models import Partner
from organization.protection import PASSWORD_FIELD
from partnercenter import factories as f
from tests.api_helpers import TOKENS, code_of, post_json

LOGIN = reverse("login")
CUSTOMER_LOGIN = reverse("customer_login")
PASSWORD_CHANGE = reverse("organization:password_change")
PROXY = "10.0.0.1"
NEW_PASSWORD = "Quite-new-pass-2027!"


@pytest.fixture(autouse=True)
def _limit_of_five(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.TRUSTED_PROXY_COUNT = 0


def at(ip: str) -> Client:
    return Client(REMOTE_ADDR=ip)


def behind_proxy(client_ip: str) -> Client:
    """A browser at ``client_ip`` seen through the TLS proxy at PROXY."""
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=client_ip)


def token_guess(client, password="wrong-guess", account="acme", member="admin"):
    return post_json(client, TOKENS, {"partner_account": account, "member_name": member, "password": password})


def member_sign_in(client, password=f.DEFAULT_PASSWORD, account="acme", member="admin"):
    return client.post(LOGIN, {"partner_account": account, "member_name": member, "password": password})


def customer_sign_in(client, password=f.DEFAULT_PASSWORD, account="cust-one"):
    return client.post(CUSTOMER_LOGIN, {"username": account, "password": password})


def signed_in(user, ip="127.0.0.1") -> Client:
    client = at(ip)
    client.force_login(user, backend="organization.backends.RolePermissionBackend")
    return client


class TestTheAccountLock:
    def test_signing_in_to_an_own_customer_account_does_not_reset_the_guesses_against_a_member(
        self, admin_member, customer_user
    ):
        attacker = at("198.51.100.7")
        # The attack of issue 15: four guesses, one successful sign-in of the attacker's own
        # customer account from the same address, and again.
        for _ in range(4):
            assert token_guess(attacker).status_code == 401
        assert customer_sign_in(at("198.51.100.7")).status_code == 302
        assert token_guess(attacker).status_code == 429
        refused = token_guess(attacker, password=f.DEFAULT_PASSWORD)
        assert refused.status_code == 429 and code_of(refused) == "too_many_attempts"
        assert ApiToken.objects.count() == 0

    def test_the_same_attack_on_the_member_sign_in_is_locked_at_the_limit(self, admin_member, customer_user):
        for _ in range(4):
            assert member_sign_in(at("198.51.100.7"), password="wrong-guess").status_code == 200
        assert customer_sign_in(at("198.51.100.7")).status_code == 302
        assert member_sign_in(at("198.51.100.7"), password="wrong-guess").status_code == 429
        locked = member_sign_in(at("198.51.100.7"))
        assert locked.status_code == 429 and "_auth_user_id" not in locked.client.session

    def test_guesses_from_many_addresses_lock_the_account(self, admin_member, viewer):
        for n in range(4):
            assert token_guess(at(f"198.51.100.{n + 1}")).status_code == 401
        assert token_guess(at("198.51.100.5")).status_code == 429
        assert token_guess(at("198.51.100.99"), password=f.DEFAULT_PASSWORD).status_code == 429
        assert member_sign_in(at("198.51.100.98")).status_code == 429
        # Another member of the same partner is another account.
        assert member_sign_in(at("198.51.100.97"), member="viewer").status_code == 302

    def test_every_password_check_counts_against_the_same_account(self, partner, admin_member, customer):
        Partner.objects.filter(pk=partner.pk).update(operation_protection=True, balance=Decimal("100.00"))
        allocate = reverse("customers:funds_allocate_submit", args=[customer.pk])
        # Signed in first: a sign-in clears the account's failures.
        changing, protected = signed_in(admin_member, "198.51.100.3"), signed_in(admin_member, "198.51.100.4")
        assert member_sign_in(at("198.51.100.1"), password="wrong-1").status_code == 200
        assert token_guess(at("198.51.100.2")).status_code == 401
        wrong_current = {"old_password": "wrong-3", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
        assert "Your current password is not correct." in changing.post(PASSWORD_CHANGE, wrong_current).content.decode()
        answer = protected.post(allocate, {"amount": "1.00", "token": uuid.uuid4().hex, "reason": "x",
                                           PASSWORD_FIELD: "wrong-4"})
        assert "The password is not correct." in answer.content.decode()
        assert member_sign_in(at("198.51.100.5"), password="wrong-5").status_code == 429
        right_current = {"old_password": f.DEFAULT_PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
        assert changing.post(PASSWORD_CHANGE, right_current).status_code == 429
        admin_member.refresh_from_db()
        assert admin_member.check_password(f.DEFAULT_PASSWORD)

    def test_customer_sign_in_guesses_lock_the_customer_account(self, customer_user):
        for n in range(4):
            assert customer_sign_in(at(f"198.51.100.{n + 1}"), password="wrong").status_code == 200
        assert customer_sign_in(at("198.51.100.5"), password="wrong").status_code == 429
        assert customer_sign_in(at("198.51.100.99")).status_code == 429

    def test_a_success_clears_the_failures_of_its_own_account(self, admin_member):
        for _ in range(4):
            member_sign_in(at("198.51.100.1"), password="typo")
        assert member_sign_in(at("198.51.100.2")).status_code == 302
        for n in range(4):
            assert member_sign_in(at(f"198.51.100.{n + 10}"), password="typo").status_code == 200
        assert member_sign_in(at("198.51.100.20")).status_code == 302


class TestTheAddressLock:
    def test_guesses_on_many_names_lock_the_address_and_only_it(self, viewer):
        guesser = at("198.51.100.7")
        for n in range(5):
            token_guess(guesser, member=f"nobody-{n}")
        assert member_sign_in(at("198.51.100.7"), member="viewer").status_code == 429
        assert member_sign_in(at("198.51.100.8"), member="viewer").status_code == 302


class TestBehindTrustedProxies:
    def test_failures_of_one_client_behind_the_proxy_do_not_lock_another(self, settings, viewer):
        settings.TRUSTED_PROXY_COUNT = 1
        for n in range(5):
            member_sign_in(behind_proxy("203.0.113.5"), member=f"nobody-{n}", password="x")
        assert member_sign_in(behind_proxy("203.0.113.5"), member="viewer").status_code == 429
        assert member_sign_in(behind_proxy("203.0.113.6"), member="viewer").status_code == 302

    def test_a_client_cannot_pick_its_address_by_sending_the_header(self, settings, viewer):
        settings.TRUSTED_PROXY_COUNT = 1
        for n in range(5):
            # The proxy appends the address it saw after whatever the client sent.
            spoofed = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"192.0.2.{n + 1}, 203.0.113.5")
            member_sign_in(spoofed, member=f"nobody-{n}", password="x")
        assert member_sign_in(behind_proxy("203.0.113.5"), member="viewer").status_code == 429

    def test_with_no_trusted_proxy_the_header_is_ignored(self, viewer):
        for n in range(5):
            member_sign_in(behind_proxy(f"203.0.113.{n + 1}"), member=f"nobody-{n}", password="x")
        assert member_sign_in(behind_proxy("203.0.113.50"), member="viewer").status_code == 429

    def test_two_trusted_proxies_take_the_address_the_outer_one_saw(self, settings, viewer):
        settings.TRUSTED_PROXY_COUNT = 2
        client = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="192.0.2.1, 203.0.113.9, 10.0.0.2")
        changed = {"old_password": f.DEFAULT_PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
        client.force_login(viewer, backend="organization.backends.RolePermissionBackend")
        assert client.post(PASSWORD_CHANGE, changed).status_code == 302
        assert OperationRecord.objects.get(event="profile.password_changed").ip == "203.0.113.9"

    def test_operation_records_keep_the_client_address(self, settings, viewer):
        settings.TRUSTED_PROXY_COUNT = 1
        client = behind_proxy("203.0.113.5")
        client.force_login(viewer, backend="organization.backends.RolePermissionBackend")
        changed = {"old_password": f.DEFAULT_PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
        assert client.post(PASSWORD_CHANGE, changed).status_code == 302
        assert OperationRecord.objects.get(event="profile.password_changed").ip == "203.0.113.5"


class TestDisabledMembers:
    def test_a_wrong_password_on_a_disabled_member_says_only_wrong_credentials(self, client, admin_member):
        admin_member.is_active = False
        admin_member.save()
        body = member_sign_in(client, password="wrong-guess").content.decode()
        assert "password is wrong" in body and "disabled" not in body

    def test_the_api_answers_a_disabled_member_with_wrong_credentials(self, client, admin_member):
        admin_member.is_active = False
        admin_member.save()
        for password in ("wrong-guess", f.DEFAULT_PASSWORD):
            response = token_guess(client, password=password)
            assert response.status_code == 401 and code_of(response) == "invalid_credentials"
            assert "disabled" not in response.content.decode()


CACHE_DOWN = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}


def test_sign_in_and_its_lock_work_with_the_cache_down(admin_member):
    # django-axes keeps its counts in the database (AXES_HANDLER), not in the cache.
    with override_settings(CACHES=CACHE_DOWN, SESSION_ENGINE="django.contrib.sessions.backends.db"):
        caches.close_all()
        assert member_sign_in(at("198.51.100.1")).status_code == 302
        for n in range(5):
            member_sign_in(at(f"198.51.100.{n + 2}"), password="wrong")
        assert member_sign_in(at("198.51.100.9")).status_code == 429
