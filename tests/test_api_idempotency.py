"""Idempotency-Key on API v1's POSTs: a client's retry replays the first answer and changes
nothing; a key reused for another body is a 422; two simultaneous requests with one key run
the operation once (PostgreSQL, real threads)."""
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from api.models import IdempotencyKey
from customers.models import Customer
from partnercenter import factories as f
from tests.api_helpers import CUSTOMERS, bearer, code_of, counts, isolate_registration_counts, partner_token, post_json


@pytest.fixture(autouse=True)
def _own_registration_counts(settings):
    isolate_registration_counts(settings)


@pytest.fixture
def token(admin_member):
    return partner_token(admin_member)


def registration(n):
    return {"account_name": f"idem-{n}", "name": f"Idem {n}", "email": f"it@idem-{n}.example.com"}


def key(value):
    return {"HTTP_IDEMPOTENCY_KEY": value}


def test_a_retry_with_the_same_key_and_body_replays_the_first_answer_and_changes_nothing(client, token):
    first = post_json(client, CUSTOMERS, registration(1), **bearer(token), **key("k-1"))
    assert first.status_code == 201
    before = counts()
    again = post_json(client, CUSTOMERS, registration(1), **bearer(token), **key("k-1"))
    assert again.status_code == 201 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert counts() == before


def test_without_a_key_the_same_body_is_a_second_request(client, token):
    assert post_json(client, CUSTOMERS, registration(2), **bearer(token)).status_code == 201
    second = post_json(client, CUSTOMERS, registration(2), **bearer(token))
    assert second.status_code == 409 and code_of(second) == "account_name_taken"


def test_the_same_key_with_another_body_is_422_and_changes_nothing(client, token):
    assert post_json(client, CUSTOMERS, registration(3), **bearer(token), **key("k-3")).status_code == 201
    before = counts()
    other = post_json(client, CUSTOMERS, registration(4), **bearer(token), **key("k-3"))
    assert other.status_code == 422 and code_of(other) == "idempotency_key_reused"
    assert counts() == before


def test_keys_belong_to_their_caller(client, token, partner):
    other_token = partner_token(f.MemberFactory(partner=partner, member_name="second", roles=["system_admin"]))
    assert post_json(client, CUSTOMERS, registration(5), **bearer(token), **key("shared")).status_code == 201
    theirs = post_json(client, CUSTOMERS, registration(6), **bearer(other_token), **key("shared"))
    assert theirs.status_code == 201 and theirs.json()["account_name"] == "idem-6"


def test_a_refused_request_frees_its_key(client, token):
    post_json(client, CUSTOMERS, registration(7), **bearer(token))
    refused = post_json(client, CUSTOMERS, registration(7), **bearer(token), **key("k-7"))
    assert refused.status_code == 409
    assert not IdempotencyKey.objects.filter(key="k-7").exists()
    assert post_json(client, CUSTOMERS, registration(8), **bearer(token), **key("k-7")).status_code == 201


def test_after_24_hours_a_key_no_longer_replays(client, token):
    post_json(client, CUSTOMERS, registration(9), **bearer(token), **key("k-9"))
    IdempotencyKey.objects.filter(key="k-9").update(created_at=timezone.now() - timedelta(hours=25))
    later = post_json(client, CUSTOMERS, registration(10), **bearer(token), **key("k-9"))
    assert later.status_code == 201 and later.json()["account_name"] == "idem-10"


@pytest.mark.parametrize("value", ["", "x" * 256, "with space", "ключ"])
def test_a_malformed_key_is_400_naming_the_header(client, token, value):
    before = counts()
    response = post_json(client, CUSTOMERS, registration(11), **bearer(token), **key(value))
    assert response.status_code == 400 and code_of(response) == "invalid_idempotency_key"
    assert list(response.json()["errors"]) == ["Idempotency-Key"]
    assert counts() == before


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_requests_with_one_key_run_the_operation_once(settings):
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "API_REGISTRATIONS_PER_CLIENT": 100}
    partner = f.PartnerFactory(account_name="idem-race")
    token = partner_token(f.MemberFactory(partner=partner, member_name="admin"))
    statuses, bodies = [], []
    barrier = threading.Barrier(6)

    def register(_i):
        try:
            barrier.wait(5)
            response = post_json(Client(), CUSTOMERS, registration("race"), **bearer(token), **key("race-key"))
            statuses.append((response.status_code, response.json().get("code")))
            if response.status_code == 201:
                bodies.append(response.json())
        finally:
            connection.close()

    threads = [threading.Thread(target=register, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(statuses) == 6
    # One ran it; every other got its answer replayed or was told the key was in use.
    # (Without the key, the losers would be 409 account_name_taken: the operation ran again.)
    assert set(statuses) <= {(201, None), (409, "idempotency_key_in_use")} and (201, None) in statuses
    assert all(body == bodies[0] for body in bodies)
    assert Customer.objects.filter(account_name="idem-race").count() == 1
    retry = post_json(Client(), CUSTOMERS, registration("race"), **bearer(token), **key("race-key"))
    assert retry.status_code == 201 and retry.json() == bodies[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_allocations_with_one_key_move_the_money_once():
    from decimal import Decimal

    from customers.models import LedgerEntry

    partner = f.PartnerFactory(account_name="idem-funds", balance=Decimal("100.00"))
    token = partner_token(f.MemberFactory(partner=partner, member_name="admin", roles=["system_admin"]))
    customer = f.CustomerFactory(account_name="idem-funds-cust")
    f.AssociationFactory(partner=partner, customer=customer, type="reseller")
    url = f"/api/v1/customers/{customer.pk}/funds/allocate"
    statuses = []
    barrier = threading.Barrier(5)

    def allocate(_i):
        try:
            barrier.wait(5)
            response = post_json(Client(), url, {"amount": "10.00"}, **bearer(token), **key("money-key"))
            statuses.append((response.status_code, response.json().get("code")))
        finally:
            connection.close()

    threads = [threading.Thread(target=allocate, args=(i,)) for i in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(statuses) == 5
    assert set(statuses) <= {(201, None), (409, "idempotency_key_in_use")} and (201, None) in statuses
    assert LedgerEntry.objects.filter(kind="allocation").count() == 1
    partner.refresh_from_db()
    assert partner.balance == Decimal("90.00")
    retry = post_json(Client(), url, {"amount": "10.00"}, **bearer(token), **key("money-key"))
    assert retry.status_code == 201 and LedgerEntry.objects.filter(kind="allocation").count() == 1
