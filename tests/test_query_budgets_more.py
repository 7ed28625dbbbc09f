"""Query budgets of the remaining portal lists and pages (vouchers, the requests inbox and a
request's page, roles, API keys, the Account Center's records and request page, a record's page)
and of every API v1 read without one elsewhere: each within its budget, a list the same for 3
rows as for 30 (a query per row would show as a difference), and a keyset-paged list the same on
a later page as on the first.

Sessions are read as production reads them (the shared cache, ``cached_db``), as in
``tests/test_query_budgets.py``: a portal page's count is the user, the roles and what the page
reads; an API read's the token (with its member and partner), the roles and what it reads."""
import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from api import services as api_services
from api.auth import digest
from api.models import ApiToken
from audit.models import OperationRecord
from customers.models import Association, AssociationRequest, LedgerEntry, Voucher
from organization.models import Role, User
from partnercenter import factories as f
from tests.budgets import count, within


@pytest.fixture(autouse=True)
def _sessions_as_in_production(settings):
    settings.SESSION_ENGINE = "partnercenter.sessions.cached_db"


def same(few, many) -> None:
    assert few[0] == many[0], f"{few[0]} for a few rows, {many[0]} for many:\n" + "\n".join(many[2])


def shown(body: bytes, *prefixes: str) -> int:
    """How many of the made customers (``<prefix>-<n>`` account names) the page names."""
    return len(set(re.findall(rb"\b(?:%s)-\d+\b" % "|".join(prefixes).encode(), body)))


def small_pages(settings, size: int = 10) -> None:
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "PAGE_SIZE": size}


@pytest.fixture
def api(admin_member):
    """A client of its own (no session) with a partner token of the System Administrator."""
    return Client(HTTP_AUTHORIZATION=f"Bearer {api_services.partner_token_create(member=admin_member)[1]}")


@pytest.fixture
def customer_api(admin_member, customer):
    """A client with a read-only customer token for ``customer`` (a reseller customer of ``partner``)."""
    raw = api_services.partner_token_create(member=admin_member)[1]
    token = ApiToken.objects.get(token_hash=digest(raw))
    customer_raw = api_services.customer_token_create(partner_token=token, customer=customer, role="readonly")[1]
    return Client(HTTP_AUTHORIZATION=f"Bearer {customer_raw}")


def reseller_customers(partner, n: int, prefix: str) -> list[Association]:
    return [f.AssociationFactory(partner=partner, type=Association.Type.RESELLER, customer=f.CustomerFactory(
        account_name=f"{prefix}-{i}", name=f"Budget Co {prefix} {i}")) for i in range(n)]


def api_page(client, url, params, budget) -> None:
    """Page 1 of ``url`` within ``budget`` and the next page at the same count."""
    first = count(client, url, params)
    within(budget, first)
    page = json.loads(first[1])
    assert len(page["results"]) == params["limit"] and page["next_cursor"]
    deep = count(client, url, {**params, "cursor": page["next_cursor"]})
    assert deep[0] == first[0] and json.loads(deep[1])["results"], "\n".join(deep[2])


def portal_page(client, url, budget, settings, params=None) -> bytes:
    """With pages of ten: page 1 (now with its bounded count) within ``budget``, page 2 the same."""
    small_pages(settings)
    first = count(client, url, params)
    body = within(budget, first)
    cursor = client.get(url, params or {}).context["page"].next_cursor
    assert cursor
    deep = count(client, url, {**(params or {}), "cursor": cursor})
    assert deep[0] == first[0], "\n".join(deep[2])
    return body


# Vouchers and the ledger -------------------------------------------------------------------------


def vouchers(partner, member, n: int, prefix: str) -> None:
    now = timezone.now()
    for i, association in enumerate(reseller_customers(partner, n, prefix)):
        status = ("unused", "used", "recovered")[i % 3]
        Voucher.objects.create(partner=partner, customer=association.customer, amount=Decimal(10 + i), issued_by=member,
                               status=status, expires_at=now + timedelta(days=-1 if i % 4 == 0 else 30),
                               recovered_at=now if status == "recovered" else None)
        LedgerEntry.objects.create(partner=partner, customer=association.customer, kind="allocation", actor=member,
                                   actor_name="admin", amount=Decimal(5 + i), partner_balance_after=0)


VOUCHER_LIST = 4  # user, roles, vouchers with their customers; the bounded count of a longer list
API_VOUCHERS = 3  # token with member and partner, roles, vouchers with their customers
API_LEDGER = 3  # token, roles, ledger rows
API_BALANCE = 2  # token (the partner's balance and quota are on it), roles


def test_the_voucher_list_stays_within_its_budget_on_every_page(as_user, admin_member, partner, settings):
    client = as_user(admin_member)
    url = reverse("customers:voucher_list")
    vouchers(partner, admin_member, 3, "few")
    few = count(client, url)
    vouchers(partner, admin_member, 27, "many")
    many = count(client, url)
    same(few, many)
    assert shown(within(VOUCHER_LIST - 1, many), "few", "many") == 30
    assert shown(portal_page(client, url, VOUCHER_LIST, settings), "many") == 10
    within(VOUCHER_LIST, count(client, url, {"status": "unused", "q": "Budget"}))


def test_the_api_voucher_and_ledger_lists_stay_within_their_budgets_on_every_page(api, admin_member, partner):
    vouchers(partner, admin_member, 3, "few")
    few = (count(api, "/api/v1/vouchers"), count(api, "/api/v1/ledger"))
    vouchers(partner, admin_member, 27, "many")
    many = (count(api, "/api/v1/vouchers"), count(api, "/api/v1/ledger"))
    for a, b in zip(few, many, strict=True):
        same(a, b)
    assert len(json.loads(within(API_VOUCHERS, many[0]))["results"]) == 30
    assert len(json.loads(within(API_LEDGER, many[1]))["results"]) == 30
    api_page(api, "/api/v1/vouchers", {"limit": 10}, API_VOUCHERS)
    api_page(api, "/api/v1/vouchers", {"limit": 5, "status": "unused", "q": "Budget"}, API_VOUCHERS)
    api_page(api, "/api/v1/ledger", {"limit": 10}, API_LEDGER)
    assert json.loads(within(API_BALANCE, count(api, "/api/v1/balance")))["voucher_quota"] is not None


# Requests ----------------------------------------------------------------------------------------


def dissociations(partner, n: int, prefix: str, member=None) -> list[AssociationRequest]:
    """A pending dissociation for each of ``n`` new customers, with a closed unbind of ``member``'s
    beside it (on another page of the inbox's filters)."""
    made = []
    for association in reseller_customers(partner, n, prefix):
        made.append(f.AssociationRequestFactory(association=association, kind="dissociation"))
        f.AssociationRequestFactory(association=association, kind="unbind", status="cancelled", requested_by=member,
                                    created_at=timezone.now() - timedelta(days=40))
    return made


INBOX = 5  # user, roles, the overdue requests to settle first, requests with customers and requesters, count
API_REQUESTS = 4  # token, roles, the overdue requests to settle first, requests with customers and requesters


def test_the_request_inbox_stays_within_its_budget_on_every_page(as_user, admin_member, partner, settings):
    client = as_user(admin_member)
    url = reverse("customers:request_inbox")
    dissociations(partner, 3, "few", admin_member)
    few = count(client, url)
    dissociations(partner, 27, "many", admin_member)
    many = count(client, url)
    same(few, many)
    assert shown(within(INBOX - 1, many), "few", "many") == 30
    portal_page(client, url, INBOX, settings)
    portal_page(client, url, INBOX, settings, {"kind": "unbind", "status": "cancelled"})


def test_the_api_request_list_stays_within_its_budget_on_every_page(api, admin_member, partner):
    dissociations(partner, 3, "few", admin_member)
    few = count(api, "/api/v1/requests")
    dissociations(partner, 27, "many", admin_member)
    many = count(api, "/api/v1/requests")
    same(few, many)
    assert len(json.loads(within(API_REQUESTS, many))["results"]) == 30
    api_page(api, "/api/v1/requests", {"limit": 10}, API_REQUESTS)
    api_page(api, "/api/v1/requests", {"limit": 10, "kind": "unbind", "status": "cancelled"}, API_REQUESTS)


# user, roles, the request with its association, customer and partner (and whether the
# association has an overdue request to settle first); a pending dissociation's approval then
# reads its effects (the unused vouchers) and its checks (the request facts in one aggregate, the
# reserved instances)
REQUEST_PAGE = 6
API_REQUEST = 3  # token, roles, the request (and whether its association has an overdue one)


def test_a_request_page_stays_within_its_budget(as_user, admin_member, partner, customer):
    [dissociation] = dissociations(partner, 1, "one", admin_member)
    Voucher.objects.create(partner=partner, customer=dissociation.association.customer, amount=Decimal("9.00"),
                           expires_at=timezone.now() + timedelta(days=9))
    f.ReservedInstanceFactory(customer=dissociation.association.customer)
    switch = f.AssociationRequestFactory(association=customer.associations.get(), kind="switch",
                                         requested_by=admin_member)
    client = as_user(admin_member)
    body = within(REQUEST_PAGE, count(client, reverse("customers:request_detail", args=[dissociation.pk])))
    assert b"Approve" in body and b"Budget Co one 0" in body
    body = within(REQUEST_PAGE - 3, count(client, reverse("customers:request_detail", args=[switch.pk])))
    assert b"Customer One" in body and b"Cancel" in body


def test_the_api_request_read_stays_within_its_budget(api, admin_member, customer):
    switch = f.AssociationRequestFactory(association=customer.associations.get(), kind="switch",
                                         requested_by=admin_member)
    body = within(API_REQUEST, count(api, f"/api/v1/requests/{switch.pk}"))
    assert json.loads(body)["requested_by"] == admin_member.username


# Roles, members and API keys ---------------------------------------------------------------------


def custom_roles(partner, n: int, prefix: str) -> None:
    from django.contrib.auth.models import Permission

    supervisor = User.objects.get(partner=partner, member_name="admin")
    perms = list(Permission.objects.filter(content_type__app_label="customers")[:4])
    for i in range(n):
        role = Role.objects.create(partner=partner, name=f"{prefix} role {i}", description=f"Role {prefix} {i}")
        role.permissions.set(perms[: 1 + i % 4])
        f.MemberFactory(partner=partner, member_name=f"{prefix}{i}", roles=[role, "read_only"],
                        supervisor=None if i % 2 else supervisor)


# user, roles, the page's roles with their member counts, their permissions with their content
# types (the custom roles' count, for the limit, is taken from the list)
ROLES_PAGE = 4
API_ROLES = 4  # token, roles, the roles, their permissions with their content types
API_MEMBERS = 4  # token, roles, members, their roles


def test_the_roles_page_stays_within_its_budget_however_many_roles(as_user, admin_member, partner):
    client = as_user(admin_member)
    url = reverse("organization:roles")
    custom_roles(partner, 2, "few")
    few = count(client, url)
    custom_roles(partner, 8, "many")  # the ten a partner may have
    many = count(client, url)
    same(few, many)
    body = within(ROLES_PAGE, many)
    assert body.count(b" role ") >= 10 and b"Role many 7" in body


def test_the_api_role_and_member_lists_stay_within_their_budgets(api, partner):
    custom_roles(partner, 2, "few")
    few = (count(api, "/api/v1/roles"), count(api, "/api/v1/members"))
    custom_roles(partner, 8, "many")
    many = (count(api, "/api/v1/roles"), count(api, "/api/v1/members"))
    for a, b in zip(few, many, strict=True):
        same(a, b)
    roles = json.loads(within(API_ROLES, many[0]))
    assert sum(1 for r in roles if not r["builtin"]) == 10 and all(r["permissions"] for r in roles if not r["builtin"])
    members = json.loads(within(API_MEMBERS, many[1]))
    assert len(members) == 11 and all(len(m["roles"]) == 2 for m in members if m["member_name"] != "admin")


def api_keys(member, n: int) -> None:
    for i in range(n):
        key, _raw = api_services.api_key_create(actor=member, name=f"ERP key {i}")
        if i % 2:
            api_services.api_key_revoke(actor=member, api_key=key)


API_KEYS_PAGE = 3  # user, roles, keys with who made and who revoked them
API_MY_KEYS = 3  # token, roles, the member's keys


def test_the_api_keys_page_and_read_stay_within_their_budgets_however_many_keys(as_user, admin_member, api):
    client = as_user(admin_member)
    url = reverse("api_keys:list")
    api_keys(admin_member, 3)
    few = (count(client, url), count(api, "/api/v1/api-keys"))
    api_keys(admin_member, 27)
    many = (count(client, url), count(api, "/api/v1/api-keys"))
    for a, b in zip(few, many, strict=True):
        same(a, b)
    assert within(API_KEYS_PAGE, many[0]).count(b"ERP key ") == 30
    assert len(json.loads(within(API_MY_KEYS, many[1]))) == 30


# Records -----------------------------------------------------------------------------------------


def records(partner, customer, member, n: int) -> None:
    for i in range(n):
        f.OperationRecordFactory(partner=partner, customer=customer, actor=member if i % 2 else None,
                                 event="funds.allocated" if i % 3 else "association.created", reason=f"step {i}")


RECORD_PAGE = 3  # user, roles, the record with its partner and customer
API_RECORD = 3  # token, roles, the record
API_RECORDS = 3  # token, roles, the listed records
# token, roles, the records as CSV (on PostgreSQL its statement timeout is set first, then one COPY)
API_EXPORT = 4 if connection.vendor == "postgresql" else 3


def test_a_record_page_stays_within_its_budget(as_user, admin_member, partner, customer):
    records(partner, customer, admin_member, 2)
    record = OperationRecord.objects.get(partner=partner, reason="step 1")  # with its actor
    body = within(RECORD_PAGE, count(as_user(admin_member), reverse("audit:detail", args=[record.pk])))
    assert b"Customer One" in body and b"step 1" in body


def test_the_api_record_reads_stay_within_their_budgets_on_every_page(api, admin_member, partner, customer):
    records(partner, customer, admin_member, 3)
    few = (count(api, "/api/v1/records"), count(api, "/api/v1/records/export"))
    records(partner, customer, admin_member, 27)
    many = (count(api, "/api/v1/records"), count(api, "/api/v1/records/export"))
    for a, b in zip(few, many, strict=True):
        same(a, b)
    assert len(json.loads(within(API_RECORDS, many[0]))["results"]) == 30
    assert within(API_EXPORT, many[1]).decode("utf-8-sig").count("step ") == 30
    api_page(api, "/api/v1/records", {"limit": 10}, API_RECORDS)
    api_page(api, "/api/v1/records", {"limit": 5, "event": "funds.allocated"}, API_RECORDS)
    record = OperationRecord.objects.filter(partner=partner).first()
    assert json.loads(within(API_RECORD, count(api, f"/api/v1/records/{record.pk}")))["id"] == record.pk


# The Account Center ------------------------------------------------------------------------------

MY_RECORDS = 4  # user, the customer, the records with their partners, the bounded count of a longer list
# user, the customer, the request with its association (and whether the association has an
# overdue request to settle first); a partner's pending switch then reads its checks (the request
# facts in one aggregate, the reserved instances)
MY_REQUEST = 5


@pytest.fixture
def customer_client(customer_user):
    client = Client()
    client.force_login(customer_user)
    return client


def test_the_account_centers_records_stay_within_their_budget_on_every_page(customer_client, admin_member, partner,
                                                                            other_partner, customer, settings):
    url = reverse("account_center:records")
    records(partner, customer, admin_member, 3)
    few = count(customer_client, url)
    records(partner, customer, admin_member, 12)
    records(other_partner, customer, None, 15)  # from an earlier partner: the partner's name, joined
    many = count(customer_client, url)
    same(few, many)
    body = within(MY_RECORDS - 1, many)
    assert body.count(b"step ") == 30 and b"Globex" in body
    portal_page(customer_client, url, MY_RECORDS, settings)


def test_the_account_centers_request_page_stays_within_its_budget(customer_client, admin_member, customer):
    switch = f.AssociationRequestFactory(association=customer.associations.get(), kind="switch",
                                         requested_by=admin_member)
    body = within(MY_REQUEST, count(customer_client, reverse("account_center:request_handle", args=[switch.pk])))
    assert b"Acme Cloud" in body


# API reads of one customer -----------------------------------------------------------------------

# token, roles, the customer's active association with the customer and the partner, the open
# request, this partner's latest ledger rows and vouchers
API_CUSTOMER = 6
# token, roles, the association with its customer (and whether it has an overdue request to
# settle first, and unexpired reserved instances), the request facts in one aggregate
API_ACCOUNT_CHECK = 4


def test_the_api_customer_read_stays_within_its_budget_however_long_its_history(api, admin_member, partner,
                                                                               customer):
    url = f"/api/v1/customers/{customer.pk}"
    f.AssociationRequestFactory(association=customer.associations.get(), kind="switch", requested_by=admin_member)
    for i in range(3):
        Voucher.objects.create(partner=partner, customer=customer, amount=Decimal(i + 1), issued_by=admin_member,
                               expires_at=timezone.now() + timedelta(days=9))
        LedgerEntry.objects.create(partner=partner, customer=customer, kind="allocation", amount=Decimal(1 + i),
                                   partner_balance_after=0, actor=admin_member)
    few = count(api, url)
    for i in range(27):
        Voucher.objects.create(partner=partner, customer=customer, amount=Decimal(i + 1), issued_by=admin_member,
                               expires_at=timezone.now() + timedelta(days=9))
        LedgerEntry.objects.create(partner=partner, customer=customer, kind="allocation", amount=Decimal(1 + i),
                                   partner_balance_after=0, actor=admin_member)
    many = count(api, url)
    same(few, many)
    body = json.loads(within(API_CUSTOMER, many))
    assert body["pending_request"]["kind"] == "switch" and len(body["vouchers"]) == len(body["ledger"]) == 20
    # The latest first, amounts to the cent.
    assert body["vouchers"][0]["amount"] == body["ledger"][0]["amount"] == "27.00"
    assert body["vouchers"][0]["id"] > body["vouchers"][-1]["id"] and body["ledger"][0]["id"] > body["ledger"][-1]["id"]


def test_the_api_account_check_stays_within_its_budget(api, admin_member, customer):
    association = customer.associations.get()
    f.AssociationRequestFactory(association=association, kind="unbind", status="cancelled", requested_by=admin_member,
                                created_at=timezone.now() - timedelta(days=3))
    f.ReservedInstanceFactory(customer=customer)
    body = json.loads(within(API_ACCOUNT_CHECK, count(api, f"/api/v1/customers/{customer.pk}/checks",
                                                      {"action": "switch"})))
    assert not body["passed"] and len(body["checks"]) > 3
    # The reserved instances are answered from the association's statement, and still count.
    assert [c["passed"] for c in body["checks"] if c["code"] == "reserved_instances"] == [False]


# The invitations, public links and projects ------------------------------------------------------

API_INVITATIONS = 3  # token, roles, invitations
API_PUBLIC_LINKS = 2  # token, roles: the links are signed, not read
API_PROJECTS = 3  # token, roles, projects with their customers


def invitations_and_projects(partner, member, n: int, prefix: str) -> None:
    now = timezone.now()
    for i, association in enumerate(reseller_customers(partner, n, prefix)):
        f.InvitationFactory(partner=partner, created_by=member, name=f"Lead {prefix} {i}",
                            status=("sent", "accepted", "revoked")[i % 3],
                            sent_at=now - timedelta(days=i % 10), expires_at=now + timedelta(days=7 - i % 10))
        f.ProjectRegistrationFactory(partner=partner, customer=association.customer, submitted_by=member,
                                     status=("submitted", "approved", "rejected")[i % 3])


INVITATION_LIST = 5  # user, roles, invitations with who sent them, today's count; the bounded count of a longer list


def test_the_invitation_list_stays_within_its_budget_on_every_page(as_user, admin_member, partner, settings):
    """Senders shown by their member name (no display name) cost no statement either: the rows
    read the sender's three name columns with the invitation."""
    client = as_user(admin_member)
    url = reverse("customers:invitation_list")
    unnamed = f.MemberFactory(partner=partner, display_name="", member_name="unnamed-sender")
    invitations_and_projects(partner, admin_member, 3, "few")
    few = count(client, url)
    invitations_and_projects(partner, unnamed, 27, "many")
    many = count(client, url)
    same(few, many)
    body = within(INVITATION_LIST - 1, many)
    assert body.count(b"Lead many") == 27 and b"unnamed-sender" in body
    portal_page(client, url, INVITATION_LIST, settings)


def test_the_api_invitation_and_project_lists_stay_within_their_budgets_on_every_page(api, admin_member, partner):
    urls = ("/api/v1/invitations", "/api/v1/projects")
    invitations_and_projects(partner, admin_member, 3, "few")
    few = [count(api, url) for url in urls]
    invitations_and_projects(partner, admin_member, 27, "many")
    many = [count(api, url) for url in urls]
    for a, b in zip(few, many, strict=True):
        same(a, b)
    assert len(json.loads(within(API_INVITATIONS, many[0]))["results"]) == 30
    assert len(json.loads(within(API_PROJECTS, many[1]))["results"]) == 30
    api_page(api, "/api/v1/invitations", {"limit": 10}, API_INVITATIONS)
    api_page(api, "/api/v1/invitations", {"limit": 5, "q": "Lead", "status": "sent"}, API_INVITATIONS)
    api_page(api, "/api/v1/projects", {"limit": 10}, API_PROJECTS)
    assert len(json.loads(within(API_PUBLIC_LINKS, count(api, "/api/v1/public-links")))) == 2


# The tokens, and the customer token's reads ------------------------------------------------------

API_CURRENT_TOKEN = 2  # token, roles
# token, its customer read with the check that it is still the partner's reseller customer,
# roles; then what the read reads: the association with its partner, the vouchers with theirs, the
# records, the requests
CUSTOMER_TOKEN = 3
MY_ACCOUNT = MY_VOUCHERS = MY_RECORDS_API = MY_REQUESTS = CUSTOMER_TOKEN + 1


def test_the_current_token_read_stays_within_its_budget_for_both_kinds(api, customer_api):
    assert json.loads(within(API_CURRENT_TOKEN, count(api, "/api/v1/tokens/current")))["kind"] == "partner"
    body = json.loads(within(CUSTOMER_TOKEN, count(customer_api, "/api/v1/tokens/current")))
    assert body["kind"] == "customer" and body["customer"]["account_name"] == "cust-one"


def test_the_customer_tokens_reads_stay_within_their_budgets_on_every_page(customer_api, admin_member, partner,
                                                                          other_partner, customer):
    association = customer.associations.get()
    now = timezone.now()

    def history(n: int, prefix: str) -> None:
        for i in range(n):
            Voucher.objects.create(partner=partner if i % 2 else other_partner, customer=customer,
                                   amount=Decimal(i + 1), expires_at=now + timedelta(days=9))
            f.AssociationRequestFactory(association=association, kind="unbind", status="cancelled",
                                        requested_by=admin_member if i % 2 else None,
                                        created_at=now - timedelta(days=30 + i))
        records(partner, customer, admin_member, n)

    urls = ("/api/v1/me", "/api/v1/me/vouchers", "/api/v1/me/records", "/api/v1/me/requests")
    history(3, "few")
    few = [count(customer_api, url) for url in urls]
    history(27, "many")
    many = [count(customer_api, url) for url in urls]
    for a, b in zip(few, many, strict=True):
        same(a, b)
    assert json.loads(within(MY_ACCOUNT, many[0]))["association"]["partner"]["name"] == "Acme Cloud"
    assert len(json.loads(within(MY_VOUCHERS, many[1]))) == 20
    # the 60 made and the token's own exchange (a record about the account)
    assert len(json.loads(within(MY_RECORDS_API, many[2]))["results"]) == 31
    assert len(json.loads(within(MY_REQUESTS, many[3]))["results"]) == 30
    api_page(customer_api, "/api/v1/me/records", {"limit": 10}, MY_RECORDS_API)
    api_page(customer_api, "/api/v1/me/requests", {"limit": 10}, MY_REQUESTS)
