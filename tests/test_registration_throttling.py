"""Account creation is limited per client (issue 15, items 3 and 8; SPEC R29): sign-ups through
a public link per client address; API registrations per API key, per client id and per client
address. A refused or crashed creation uses up no slot, and with the shared cache down the
limits answer a clean 503 / form error, logged, never a 500."""
import logging
import uuid

import pytest
from django.core.cache import caches
from django.test import Client, override_settings
from django.urls import reverse

from api import services as api_services
from api.v1 import customers as api_views
from customers.invitations import services as invitations
from customers.models import Customer
from partnercenter import factories as f
from tests.api_helpers import CUSTOMERS, bearer, code_of, counts, partner_token, post_json

LIMIT_EN = (
    "The number of registrations from your client has exceeded the limit. "
    "Please try again later or register from another client."
)
LIMIT_ZH = "系统侦测到您当前的客户端注册数量超限，请稍晚再注册或更换客户端注册。"
REDIS_URL = "redis://127.0.0.1:6379/1"
CLOSED_PORT = "redis://127.0.0.1:1/0"
STRONG_PASSWORD = "Harbour-lantern-2026!"


def limits(settings, **values):
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, **values}


@pytest.fixture
def database_counts(settings):
    settings.CACHE_URL = ""


@pytest.fixture
def redis_counts(settings):
    settings.CACHE_URL = REDIS_URL
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
    }


@pytest.fixture(params=["database_counts", "redis_counts"])
def counted(request):
    request.getfixturevalue(request.param)


@pytest.fixture
def cache_down(settings):
    settings.CACHE_URL = CLOSED_PORT
    with override_settings(
        CACHES={"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CLOSED_PORT}},
        SESSION_ENGINE="django.contrib.sessions.backends.db",
    ):
        caches.close_all()
        yield
    caches.close_all()


@pytest.fixture(autouse=True)
def _generous_defaults(settings):
    limits(
        settings,
        API_REGISTRATIONS_PER_CLIENT=100,
        API_REGISTRATIONS_PER_IP=100,
        API_REGISTRATIONS_PER_KEY=100,
        SIGN_UPS_PER_IP=100,
    )


# Sign-up through a public link -------------------------------------------------------------------

def sign_up_url(partner):
    return reverse("account_center:public_link_sign_up", args=[invitations.public_link_token(partner, "reseller")])


def sign_up(partner, n, ip="198.51.100.7", **extra):
    data = {"account_name": f"fresh-{n}", "name": f"Fresh {n}", "email": f"fresh-{n}@example.com",
            "password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD}
    return Client(REMOTE_ADDR=ip).post(sign_up_url(partner), data, **extra)


class TestPublicLinkSignUp:
    def test_sign_ups_are_limited_per_client_address_in_the_callers_language(self, settings, partner, counted):
        limits(settings, SIGN_UPS_PER_IP=2)
        assert [sign_up(partner, n).status_code for n in range(2)] == [302, 302]
        refused = sign_up(partner, 2)
        assert refused.status_code == 429 and LIMIT_EN in refused.content.decode()
        chinese = sign_up(partner, 2, HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert chinese.status_code == 429 and LIMIT_ZH in chinese.content.decode()
        assert not Customer.objects.filter(account_name="fresh-2").exists()
        assert sign_up(partner, 3, ip="198.51.100.8").status_code == 302

    def test_behind_the_proxy_each_client_has_its_own_count(self, settings, partner, counted):
        limits(settings, SIGN_UPS_PER_IP=1)
        settings.TRUSTED_PROXY_COUNT = 1
        assert sign_up(partner, 0, ip="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5").status_code == 302
        assert sign_up(partner, 1, ip="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5").status_code == 429
        assert sign_up(partner, 2, ip="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.6").status_code == 302

    def test_a_sign_up_that_crashes_uses_no_slot(self, settings, partner, counted, monkeypatch):
        limits(settings, SIGN_UPS_PER_IP=1)
        real = invitations.customer_sign_up
        monkeypatch.setattr(invitations, "customer_sign_up", lambda **kw: 1 / 0)
        client = Client(REMOTE_ADDR="198.51.100.7", raise_request_exception=False)
        data = {"account_name": "fresh-0", "name": "Fresh", "email": "fresh-0@example.com",
                "password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD}
        assert client.post(sign_up_url(partner), data).status_code == 500
        monkeypatch.setattr(invitations, "customer_sign_up", real)
        assert sign_up(partner, 1).status_code == 302

    def test_with_the_cache_down_sign_up_is_a_form_error_and_logged(self, partner, cache_down, caplog):
        with caplog.at_level(logging.ERROR, logger="api.ratelimit"):
            response = sign_up(partner, 0)
        assert response.status_code == 503
        assert "Sign-up is not available at the moment." in response.content.decode()
        assert not Customer.objects.filter(account_name="fresh-0").exists()
        assert "shared cache did not answer" in caplog.text


# Registration through the API --------------------------------------------------------------------

def registration(n):
    return {"account_name": f"api-cust-{n}", "name": f"API Customer {n}", "email": f"it@api-cust-{n}.example.com"}


def register(token, n, ip="198.51.100.7", client_id=None, **extra):
    headers = {**bearer(token), **({"HTTP_X_CLIENT_ID": client_id} if client_id else {}), **extra}
    return post_json(Client(REMOTE_ADDR=ip), CUSTOMERS, registration(n), **headers)


@pytest.fixture
def token(admin_member):
    return partner_token(admin_member)


class TestApiRegistration:
    def test_fresh_client_ids_do_not_escape_the_address_limit(self, settings, token, counted):
        limits(settings, API_REGISTRATIONS_PER_IP=3)
        statuses = [register(token, n, client_id=f"fresh-{uuid.uuid4().hex}").status_code for n in range(5)]
        assert statuses == [201, 201, 201, 429, 429]
        refused = register(token, 9, client_id="another", HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert (refused.json()["code"], refused.json()["detail"]) == ("registration_limit_exceeded", LIMIT_ZH)
        assert register(token, 6, ip="198.51.100.8").status_code == 201

    def test_the_key_limit_holds_across_addresses_and_client_ids(self, settings, partner, token, counted):
        limits(settings, API_REGISTRATIONS_PER_KEY=2)
        statuses = [register(token, n, ip=f"198.51.100.{n + 1}", client_id=f"c{n}").status_code for n in range(3)]
        assert statuses == [201, 201, 429]
        other = partner_token(f.MemberFactory(partner=partner, member_name="second", roles=["system_admin"]))
        assert register(other, 3, ip="198.51.100.9").status_code == 201

    def test_a_refused_registration_uses_no_slot(self, settings, token, counted):
        limits(settings, API_REGISTRATIONS_PER_CLIENT=2)
        assert register(token, 0, client_id="erp").status_code == 201
        for _ in range(3):
            taken = register(token, 0, client_id="erp")
            assert taken.status_code == 409 and code_of(taken) == "account_name_taken"
        assert register(token, 1, client_id="erp").status_code == 201
        assert register(token, 2, client_id="erp").status_code == 429

    def test_a_registration_refused_by_one_limit_takes_nothing_from_the_others(self, settings, token, counted):
        limits(settings, API_REGISTRATIONS_PER_CLIENT=1, API_REGISTRATIONS_PER_IP=2)
        assert register(token, 0, client_id="first").status_code == 201
        for n in range(3):
            assert register(token, n + 1, client_id="first").status_code == 429
        assert register(token, 5, client_id="second").status_code == 201
        assert register(token, 6, client_id="third").status_code == 429

    def test_a_registration_that_crashes_uses_no_slot(self, settings, token, counted, monkeypatch):
        limits(settings, API_REGISTRATIONS_PER_CLIENT=1)
        real = api_services.customer_register
        monkeypatch.setattr(api_views.services, "customer_register", lambda **kw: 1 / 0)
        client = Client(REMOTE_ADDR="198.51.100.7", raise_request_exception=False)
        crashed = post_json(client, CUSTOMERS, registration(0), HTTP_X_CLIENT_ID="erp", **bearer(token))
        assert crashed.status_code == 500
        monkeypatch.setattr(api_views.services, "customer_register", real)
        assert register(token, 1, client_id="erp").status_code == 201

    def test_with_the_cache_down_a_registration_is_a_json_503_and_logged(self, token, cache_down, caplog):
        before = counts()
        with caplog.at_level(logging.ERROR, logger="api.ratelimit"):
            response = register(token, 0, client_id="erp")
        assert response.status_code == 503 and response["Content-Type"] == "application/problem+json"
        assert code_of(response) == "rate_limit_unavailable" and int(response["Retry-After"]) > 0
        assert counts() == before
        assert "shared cache did not answer" in caplog.text
