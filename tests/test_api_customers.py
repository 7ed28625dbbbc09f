"""The customers endpoint: the partner's list with cursor pagination, and registration through
the API with its per-client limit shared across processes (SPEC R2c, R29)."""
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from audit.events import Event
from audit.models import OperationRecord
from customers.models import Association, Customer
from organization.models import User
from partnercenter import factories as f
from tests.api_helpers import (
    CUSTOMER_TOKENS,
    CUSTOMERS,
    bearer,
    code_of,
    counts,
    isolate_registration_counts,
    partner_token,
    post_json,
    role_with,
)

ROOT = Path(__file__).resolve().parent.parent
LIMIT_EN = (
    "The number of registrations from your client has exceeded the limit. "
    "Please try again later or register from another client."
)
LIMIT_ZH = "系统侦测到您当前的客户端注册数量超限，请稍晚再注册或更换客户端注册。"
REDIS_URL = "redis://127.0.0.1:6379/14"


@pytest.fixture(autouse=True)
def _own_registration_counts(settings):
    isolate_registration_counts(settings)


@pytest.fixture
def token(admin_member):
    return partner_token(admin_member)


@pytest.fixture
def database_limit(settings):
    """The registration limit kept in the database (no CACHE_URL), 2 per period."""
    settings.CACHE_URL = ""
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "API_REGISTRATIONS_PER_CLIENT": 2}


@pytest.fixture
def redis_limit(settings):
    """The registration limit kept in Redis (CACHE_URL), 2 per period, under a key prefix
    of this test's own."""
    settings.CACHE_URL = REDIS_URL
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
    }
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "API_REGISTRATIONS_PER_CLIENT": 2}


def registration(n, **extra):
    return {"account_name": f"api-cust-{n}", "name": f"API Customer {n}", "email": f"it@api-cust-{n}.example.com",
            **extra}


class TestCustomerList:
    def test_it_lists_the_partners_active_customers_only(self, client, token, customer, partner, other_partner):
        f.AssociationFactory(partner=other_partner, customer=f.CustomerFactory(account_name="foreign-1"))
        ended = f.AssociationFactory(partner=partner, customer=f.CustomerFactory(account_name="ended-1"))
        Association.objects.filter(pk=ended.pk).update(status="ended", ended_at="2026-01-01T00:00:00Z",
                                                       end_reason="unbind")
        response = client.get(CUSTOMERS, **bearer(token))
        assert response.status_code == 200
        body = response.json()
        assert [c["account_name"] for c in body["results"]] == ["cust-one"]
        assert body["results"][0]["association_type"] == "reseller"
        assert body["next_cursor"] is None and body["previous_cursor"] is None

    def test_a_distributor_does_not_list_its_resellers_customers(self, client, db):
        distributor = f.DistributorFactory(account_name="dist")
        reseller = f.ResellerFactory(account_name="res", distributor=distributor)
        f.AssociationFactory(partner=distributor, customer=f.CustomerFactory(account_name="dist-own"))
        f.AssociationFactory(partner=reseller, customer=f.CustomerFactory(account_name="res-cust"))
        token = partner_token(f.MemberFactory(partner=distributor, member_name="admin"))
        names = [c["account_name"] for c in client.get(CUSTOMERS, **bearer(token)).json()["results"]]
        assert names == ["dist-own"]

    def test_it_filters_by_association_type(self, client, token, customer, partner):
        f.AssociationFactory(partner=partner, customer=f.CustomerFactory(account_name="ref-1"), type="referral")
        body = client.get(CUSTOMERS, {"type": "referral"}, **bearer(token)).json()
        assert [c["account_name"] for c in body["results"]] == ["ref-1"]

    def test_cursor_pages_cover_every_customer_once_and_go_back(self, client, token, partner):
        for _ in range(23):
            f.AssociationFactory(partner=partner)
        seen, pages, cursor, cursors = [], 0, None, []
        while True:
            params = {"limit": 5, **({"cursor": cursor} if cursor else {})}
            body = client.get(CUSTOMERS, params, **bearer(token)).json()
            seen += [c["id"] for c in body["results"]]
            cursors.append(body)
            pages += 1
            cursor = body["next_cursor"]
            if not cursor:
                break
        assert pages == 5 and len(seen) == 23 and len(set(seen)) == 23
        back = client.get(CUSTOMERS, {"limit": 5, "cursor": cursors[1]["previous_cursor"]}, **bearer(token)).json()
        assert [c["id"] for c in back["results"]] == [c["id"] for c in cursors[0]["results"]]

    def test_a_forged_or_foreign_cursor_is_404(self, client, token, partner):
        for _ in range(3):
            f.AssociationFactory(partner=partner, type="reseller")
        cursor = client.get(CUSTOMERS, {"limit": 1}, **bearer(token)).json()["next_cursor"]
        other_list = client.get(CUSTOMERS, {"limit": 1, "type": "referral", "cursor": cursor}, **bearer(token))
        assert other_list.status_code == 404 and code_of(other_list) == "invalid_cursor"
        forged = client.get(CUSTOMERS, {"cursor": "eyJ2IjpbMV0sImQiOiJuZXh0In0:forged:sig"}, **bearer(token))
        assert forged.status_code == 404 and code_of(forged) == "invalid_cursor"

    @pytest.mark.parametrize(
        "params",
        [{"limit": "0"}, {"limit": "101"}, {"limit": "abc"}, {"limit": "1.5"}, {"limit": "-1"}, {"limit": ""},
         {"limit": "１０"}, {"type": "other"}, {"cursor": "x" * 513}],
    )
    def test_bad_parameters_are_400(self, client, token, params):
        response = client.get(CUSTOMERS, params, **bearer(token))
        assert response.status_code == 400 and code_of(response) == "validation_failed"
        assert set(response.json()["errors"]) == set(params)

    def test_it_needs_the_view_customers_permission(self, client, partner):
        api_only = role_with(partner, "organization.use_api")
        member = f.MemberFactory(partner=partner, member_name="api-only", roles=[api_only])
        response = client.get(CUSTOMERS, **bearer(partner_token(member)))
        assert response.status_code == 403 and code_of(response) == "permission_denied"

    @pytest.mark.parametrize("rows", [10, 60])
    def test_the_query_count_does_not_grow_with_rows(self, client, token, partner, rows, django_assert_max_num_queries):
        for _ in range(rows):
            f.AssociationFactory(partner=partner)
        # token with member and partner, roles with permissions, one page
        with django_assert_max_num_queries(3):
            response = client.get(CUSTOMERS, **bearer(token))
        assert len(response.json()["results"]) == min(rows, 50)


class TestRegistration:
    def test_it_creates_the_customer_its_user_and_a_reseller_association(self, client, token, admin_member, partner):
        response = post_json(client, CUSTOMERS, registration(1), **bearer(token))
        assert response.status_code == 201
        body = response.json()
        assert body["account_name"] == "api-cust-1" and body["association_type"] == "reseller"

        customer = Customer.objects.get(account_name="api-cust-1")
        assert body["id"] == customer.pk
        assert customer.name == "API Customer 1" and customer.email == "it@api-cust-1.example.com"
        assert customer.user.kind == User.Kind.CUSTOMER and customer.user.username == "api-cust-1"
        assert not customer.user.has_usable_password()
        association = Association.objects.get(customer=customer)
        assert (association.partner, association.type, association.origin, association.status) == (
            partner, "reseller", "api", "active"
        )
        records = OperationRecord.objects.filter(customer=customer)
        assert set(records.values_list("event", flat=True)) == {Event.ASSOCIATION_CREATED, Event.CUSTOMER_REGISTERED}
        assert all(r.actor == admin_member and r.association == association for r in records)

    def test_the_registered_customer_is_listed_and_can_be_exchanged_for(self, client, token):
        customer_id = post_json(client, CUSTOMERS, registration(2), **bearer(token)).json()["id"]
        listed = client.get(CUSTOMERS, **bearer(token)).json()["results"]
        assert [c["id"] for c in listed] == [customer_id]
        exchanged = post_json(client, CUSTOMER_TOKENS, {"customer_id": customer_id, "role": "te_admin"},
                              **bearer(token))
        assert exchanged.status_code == 201

    @pytest.mark.parametrize(
        "clash, code",
        [
            ({"account_name": "cust-one"}, "account_name_taken"),
            ({"account_name": "operator"}, "account_name_taken"),
            ({"email": "CUST-ONE@customer.example.com"}, "email_taken"),
            ({"email": "admin@acme.example.com"}, "email_taken"),
        ],
    )
    def test_a_taken_account_name_or_email_is_409_and_changes_nothing(
        self, client, token, customer, operator, admin_member, clash, code
    ):
        before = counts()
        response = post_json(client, CUSTOMERS, registration(3, **clash), **bearer(token))
        assert response.status_code == 409 and code_of(response) == code
        assert counts() == before

    @pytest.mark.parametrize(
        "body, field",
        [
            (registration(4, account_name="Upper-Case"), "account_name"),
            (registration(4, account_name="a"), "account_name"),
            (registration(4, account_name="with:colon"), "account_name"),
            (registration(4, email="not-an-email"), "email"),
            (registration(4, name="\x00null"), "name"),
            (registration(4, name=" leading blank"), "name"),
            (registration(4, name="x" * 201), "name"),
            (registration(4, name=42), "name"),
            (registration(4, password="secret"), "password"),
            ({"account_name": "api-cust-4", "name": "No e-mail"}, "email"),
        ],
    )
    def test_invalid_input_is_400_naming_the_field_and_changes_nothing(self, client, token, body, field):
        before = counts()
        response = post_json(client, CUSTOMERS, body, **bearer(token))
        assert response.status_code == 400 and code_of(response) == "validation_failed"
        assert list(response.json()["errors"]) == [field]
        assert counts() == before

    def test_it_needs_a_token(self, client, admin_member):
        before = counts()
        response = post_json(client, CUSTOMERS, registration(6))
        assert response.status_code == 401 and code_of(response) == "not_authenticated"
        assert counts() == before

    def test_it_needs_the_invite_customers_permission(self, client, partner):
        role = role_with(partner, "organization.use_api", "customers.view_customer")
        token = partner_token(f.MemberFactory(partner=partner, member_name="lister", roles=[role]))
        before = counts()
        response = post_json(client, CUSTOMERS, registration(5), **bearer(token))
        assert response.status_code == 403 and code_of(response) == "permission_denied"
        assert counts() == before


@pytest.mark.parametrize("backend", ["database_limit", "redis_limit"])
class TestRegistrationLimit:
    def test_past_the_limit_a_client_gets_429_in_its_language(self, request, client, token, backend):
        request.getfixturevalue(backend)
        headers = {"HTTP_X_CLIENT_ID": f"client-{uuid.uuid4().hex}", **bearer(token)}
        for n in range(2):
            assert post_json(client, CUSTOMERS, registration(n), **headers).status_code == 201
        before = counts()
        refused = post_json(client, CUSTOMERS, registration(2), **headers)
        assert refused.status_code == 429
        problem = refused.json()
        assert refused["Content-Type"] == "application/problem+json"
        assert (problem["status"], problem["code"], problem["detail"]) == (429, "registration_limit_exceeded", LIMIT_EN)
        assert problem["type"].endswith(":registration_limit_exceeded") and problem["title"] == "Too many requests"
        assert 0 < int(refused["Retry-After"]) <= 3600
        chinese = post_json(client, CUSTOMERS, registration(2), HTTP_ACCEPT_LANGUAGE="zh-hans", **headers)
        assert chinese.status_code == 429 and chinese.json()["detail"] == LIMIT_ZH
        assert counts() == before

    def test_another_client_id_has_its_own_count(self, request, client, token, backend):
        request.getfixturevalue(backend)
        first = {"HTTP_X_CLIENT_ID": f"a-{uuid.uuid4().hex}", **bearer(token)}
        for n in range(2):
            post_json(client, CUSTOMERS, registration(n), **first)
        assert post_json(client, CUSTOMERS, registration(2), **first).status_code == 429
        other = {"HTTP_X_CLIENT_ID": f"b-{uuid.uuid4().hex}", **bearer(token)}
        assert post_json(client, CUSTOMERS, registration(3), **other).status_code == 201

    def test_without_a_client_id_the_ip_address_counts(self, request, token, backend, settings):
        request.getfixturevalue(backend)
        settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "API_REGISTRATIONS_PER_IP": 2}
        ip = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"
        client = Client(REMOTE_ADDR=ip)
        for n in range(2):
            assert post_json(client, CUSTOMERS, registration(n), **bearer(token)).status_code == 201
        assert post_json(client, CUSTOMERS, registration(2), **bearer(token)).status_code == 429
        elsewhere = Client(REMOTE_ADDR="192.0.2.55")
        assert post_json(elsewhere, CUSTOMERS, registration(3), **bearer(token)).status_code == 201

    def test_a_malformed_client_id_is_400(self, request, client, token, backend):
        request.getfixturevalue(backend)
        before = counts()
        response = post_json(client, CUSTOMERS, registration(1), HTTP_X_CLIENT_ID="bad id!", **bearer(token))
        assert response.status_code == 400 and list(response.json()["errors"]) == ["X-Client-Id"]
        assert counts() == before


def _run_threads(target, n):
    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_registrations_of_one_name_give_one_customer(settings):
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "API_REGISTRATIONS_PER_CLIENT": 100}
    partner = f.PartnerFactory(account_name="race-p")
    token = partner_token(f.MemberFactory(partner=partner, member_name="admin"))
    statuses = []
    barrier = threading.Barrier(4)

    def register(i):
        try:
            barrier.wait(5)
            response = post_json(Client(), CUSTOMERS, registration("same", email=f"x{i}@example.com"), **bearer(token))
            statuses.append((response.status_code, response.json().get("code")))
        finally:
            connection.close()

    _run_threads(register, 4)
    assert sorted(statuses) == [(201, None)] + [(409, "account_name_taken")] * 3
    assert Customer.objects.filter(account_name="api-cust-same").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("backend", ["database_limit", "redis_limit"])
def test_simultaneous_registrations_do_not_overrun_the_limit(request, backend):
    request.getfixturevalue(backend)
    partner = f.PartnerFactory(account_name="race-p")
    token = partner_token(f.MemberFactory(partner=partner, member_name="admin"))
    client_id = f"racer-{uuid.uuid4().hex}"
    statuses = []
    barrier = threading.Barrier(6)

    def register(i):
        try:
            barrier.wait(5)
            response = post_json(Client(), CUSTOMERS, registration(i), HTTP_X_CLIENT_ID=client_id, **bearer(token))
            statuses.append(response.status_code)
        finally:
            connection.close()

    _run_threads(register, 6)
    assert sorted(statuses) == [201, 201, 429, 429, 429, 429]
    assert Customer.objects.count() == 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _start_server(port: int, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", "--skip-checks", f"127.0.0.1:{port}"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def _wait_until_serving(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"server on {port} stopped: {server.stderr.read().decode()[-2000:]}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=2).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"server on {port} did not start")


def _post(port: int, data: dict, headers: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/customers",
        data=json.dumps(data).encode(),
        headers={"Content-Type": "application/json", **headers},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("cache_url", [REDIS_URL, ""], ids=["redis", "database"])
def test_two_server_processes_share_one_registration_limit(cache_url):
    partner = f.PartnerFactory(account_name="two-proc")
    token = partner_token(f.MemberFactory(partner=partner, member_name="admin"))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PC_")},
        "DEBUG": "true",
        "DATABASE_URL": _database_url(),
        "CACHE_URL": cache_url,
        "CACHE_KEY_PREFIX": f"two-proc-{uuid.uuid4().hex}",
        "PC_API_REGISTRATIONS_PER_CLIENT": "3",
        "PC_API_REGISTRATION_PERIOD_SECONDS": "3600",
    }
    ports = [_free_port(), _free_port()]
    servers = [_start_server(port, env) for port in ports]
    try:
        for port, server in zip(ports, servers, strict=True):
            _wait_until_serving(port, server)
        headers = {"Authorization": f"Bearer {token}", "X-Client-Id": f"shared-{uuid.uuid4().hex}"}
        statuses = []
        for n in range(6):
            port = ports[n % 2]
            language = "zh-hans" if n == 5 else "en"
            status, body = _post(port, registration(n), {**headers, "Accept-Language": language})
            statuses.append((port, status))
            if n == 4:
                assert body["detail"] == LIMIT_EN
            if n == 5:
                assert body["detail"] == LIMIT_ZH
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(20)
    assert [status for _port, status in statuses] == [201, 201, 201, 429, 429, 429]
    assert {port for port, _status in statuses} == set(ports)
    assert Customer.objects.filter(associations__partner=partner).count() == 3


class TestGetCustomerScope:
    """getCustomer reads the customer through its active association and decides on that row
    whom it shows to: the partner's own customers, a distributor's resellers' customers (read
    only), a customer manager's own; anything else is 404."""

    def get(self, member, customer):
        return Client().get(f"/api/v1/customers/{customer.pk}", **bearer(partner_token(member)))

    def test_a_distributor_reads_its_resellers_customer_as_not_its_own(self, dist_admin, reseller):
        customer = f.CustomerFactory(account_name="res-cust", name="Res Cust")
        f.AssociationFactory(partner=reseller, customer=customer)
        response = self.get(dist_admin, customer)
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["name"] == "Res Cust" and body["association"]["partner"]["name"] == "Reseller R"
        assert body["association"]["own"] is False

    def test_a_customer_manager_reads_only_their_own_customers(self, manager, partner):
        manager.roles.add(role_with(partner, "organization.use_api"))  # neither lifts nor adds to the limit
        theirs = f.CustomerFactory(account_name="theirs", manager=manager)
        f.AssociationFactory(partner=partner, customer=theirs)
        others = f.CustomerFactory(account_name="others")
        f.AssociationFactory(partner=partner, customer=others)
        assert self.get(manager, theirs).status_code == 200
        response = self.get(manager, others)
        assert response.status_code == 404 and code_of(response) == "not_found"

    def test_a_customer_whose_association_ended_or_is_another_partners_is_not_found(
        self, admin_member, partner, other_partner
    ):
        ended = f.CustomerFactory(account_name="ended")
        f.AssociationFactory(partner=partner, customer=ended, status=Association.Status.ENDED,
                             ended_at=timezone.now(), end_reason=Association.EndReason.UNBIND)
        foreign = f.CustomerFactory(account_name="foreign")
        f.AssociationFactory(partner=other_partner, customer=foreign)
        for customer in (ended, foreign):
            response = self.get(admin_member, customer)
            assert response.status_code == 404 and code_of(response) == "not_found"
