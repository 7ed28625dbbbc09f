"""Query budgets of the pages around the customer list (issue 17): the customer page, the
account check, the Account Center home at most 6 statements each, the member sign-in POST at
most 10, each with data in every table it reads, so a budget is met by reading less often and
never by showing less.

Sessions are read as production reads them with its shared cache (``CACHE_URL`` set:
``partnercenter.sessions.cached_db``, written through to the database); the per-test cache key
prefix of ``tests/conftest.py`` keeps one test's sessions from the next. The sign-in POST runs
outside a test transaction, so its BEGIN and COMMIT are counted as the server's would be."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.models import Association, AssociationRequest, Customer, LedgerEntry, Voucher
from partnercenter import factories as f

PAGE_BUDGET = 6
SIGN_IN_BUDGET = 10


@pytest.fixture(autouse=True)
def _sessions_as_in_production(settings):
    settings.SESSION_ENGINE = "partnercenter.sessions.cached_db"


@pytest.fixture
def full_customer(partner, customer, other_partner):
    """The fixture customer with something in every table its pages read: an earlier
    association with another partner, ledger rows, vouchers (used, unused, expired), requests
    (a closed one and a pending switch), reserved instances (one expired) and an invitation."""
    now = timezone.now()
    association = customer.associations.get()
    f.AssociationFactory(
        partner=other_partner, customer=customer, status=Association.Status.ENDED,
        started_at=now - timedelta(days=900), ended_at=now - timedelta(days=800), end_reason="unbind",
    )
    for amount in ("100.00", "25.50"):
        LedgerEntry.objects.create(
            partner=partner, customer=customer, kind="allocation", amount=Decimal(amount), partner_balance_after=0
        )
    Voucher.objects.create(
        partner=partner, customer=customer, amount=Decimal("40.00"), expires_at=now + timedelta(days=5),
    )
    Voucher.objects.create(
        partner=partner, customer=customer, amount=Decimal("60.00"), expires_at=now + timedelta(days=90),
    )
    Voucher.objects.create(
        partner=partner, customer=customer, amount=Decimal("7.00"), expires_at=now + timedelta(days=2), status="used"
    )
    f.AssociationRequestFactory(
        association=association, kind="unbind", status=AssociationRequest.Status.CANCELLED,
        created_at=now - timedelta(days=400),
    )
    f.AssociationRequestFactory(association=association, kind="switch", deadline=now + timedelta(days=3))
    f.ReservedInstanceFactory(customer=customer, resource="ecs.late", expires_at=now + timedelta(days=200))
    f.ReservedInstanceFactory(customer=customer, resource="ecs.soon", expires_at=now + timedelta(days=20))
    f.ReservedInstanceFactory(customer=customer, resource="ecs.gone", expires_at=now - timedelta(days=1))
    f.InvitationFactory(partner=other_partner, email=customer.email)
    return customer


def count(client, url) -> tuple[int, str, list[str]]:
    client.get(url)  # the first request of a session may warm up per-process things
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), response.content.decode(), [q["sql"] for q in captured.captured_queries]


def test_the_customer_page_reads_at_most_six_statements(as_user, admin_member, full_customer):
    queries, html, sql = count(as_user(admin_member), reverse("customers:detail", args=[full_customer.pk]))
    assert queries <= PAGE_BUDGET, "\n".join(sql)
    # Everything is still there: history, requests, funds, reserved instances (soonest first).
    assert "Globex" not in html  # another partner's history stays hidden
    assert "ecs.soon" in html and "ecs.late" in html and "ecs.gone" not in html
    assert html.index("ecs.soon") < html.index("ecs.late")
    assert "Pending: " in html  # the open switch, with its deadline
    assert "USD 25.50" in html and "USD 40.00" in html


def test_the_customer_page_shows_the_enterprise_master_and_the_freezing_partner_within_its_budget(
    as_user, admin_member, partner, full_customer
):
    """The master's account name and the freezing partner's name are read in the page's
    association statement (scalar subqueries), not by a statement of their own."""
    master = f.CustomerFactory(account_name="acme-holding", enterprise_role=Customer.EnterpriseRole.MASTER)
    Customer.objects.filter(pk=full_customer.pk).update(
        enterprise_role=Customer.EnterpriseRole.SUB, enterprise_master=master, financially_hosted=True,
        frozen=True, frozen_source="partner", frozen_by_partner=partner, frozen_at=timezone.now(),
    )
    queries, html, sql = count(as_user(admin_member), reverse("customers:detail", args=[full_customer.pk]))
    assert queries <= PAGE_BUDGET, "\n".join(sql)
    assert "acme-holding (financially hosted)" in html
    assert "Frozen by the partner" in html
    assert f'Frozen by</dt>\n  <dd class="col-sm-7">{partner.name}' in html


def test_the_customer_page_shows_a_reserved_instance_on_its_day(as_user, admin_member, customer):
    """The reserved instances come back as JSON in the customer's statement: their moment is
    read back as the same aware datetime (shown in the template's date)."""
    expires = timezone.now().replace(microsecond=0) + timedelta(days=40)
    f.ReservedInstanceFactory(customer=customer, resource="ecs.dated", expires_at=expires)
    html = as_user(admin_member).get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert f"ecs.dated (until {expires:%Y-%m-%d})" in html


def test_the_customer_page_of_another_partners_customer_is_still_a_404(as_user, other_member, full_customer):
    assert as_user(other_member).get(reverse("customers:detail", args=[full_customer.pk])).status_code == 404


def test_a_customer_manager_still_sees_only_their_own_customers_page(as_user, manager, partner, customer):
    client = as_user(manager)
    assert client.get(reverse("customers:detail", args=[customer.pk])).status_code == 404
    Customer.objects.filter(pk=customer.pk).update(manager=manager)
    assert client.get(reverse("customers:detail", args=[customer.pk])).status_code == 200


def test_the_customer_page_does_not_grow_with_history_or_records(as_user, admin_member, partner, full_customer):
    client = as_user(admin_member)
    url = reverse("customers:detail", args=[full_customer.pk])
    before, _html, _sql = count(client, url)
    for days in range(3):
        f.ReservedInstanceFactory(customer=full_customer, expires_at=timezone.now() + timedelta(days=30 + days))
        Voucher.objects.create(
            partner=partner, customer=full_customer, amount=Decimal(
                "1.00"), expires_at=timezone.now() + timedelta(days=9,
            )
        )
    after, _html, _sql = count(client, url)
    assert after == before


def test_the_account_check_reads_at_most_six_statements(as_user, admin_member, full_customer):
    queries, html, sql = count(as_user(admin_member), reverse("customers:switch_check", args=[full_customer.pk]))
    assert queries <= PAGE_BUDGET, "\n".join(sql)
    # The checks still see the pending switch and the reserved instances.
    assert "Another request on this association is pending." in html
    assert "The customer has unexpired reserved instances." in html


def test_the_account_check_still_finds_a_recent_request_and_dissociation(as_user, admin_member, partner, customer):
    association = customer.associations.get()
    f.AssociationRequestFactory(
        association=association, kind="dissociation", status=AssociationRequest.Status.REJECTED,
        created_at=timezone.now() - timedelta(days=10),
    )
    f.AssociationRequestFactory(
        association=association, kind="unbind", status=AssociationRequest.Status.CANCELLED,
        created_at=timezone.now() - timedelta(days=20),
    )
    html = as_user(admin_member).get(reverse("customers:unbind_check", args=[customer.pk])).content.decode()
    assert "This partner submitted a switch or unbind request for this customer" in html
    assert "The customer submitted a dissociation request from this partner" in html
    assert "Another request on this association is pending." not in html


def test_the_account_check_settles_an_overdue_request_first(as_user, admin_member, customer):
    overdue = f.AssociationRequestFactory(
        association=customer.associations.get(), kind="switch", deadline=timezone.now() - timedelta(minutes=1)
    )
    html = as_user(admin_member).get(reverse("customers:switch_check", args=[customer.pk])).content.decode()
    overdue.refresh_from_db()
    assert overdue.status == AssociationRequest.Status.EXPIRED
    assert "Another request on this association is pending." not in html


def test_the_account_center_home_reads_at_most_six_statements(client, customer_user, full_customer):
    client.force_login(customer_user)
    queries, html, sql = count(client, reverse("account_center:home"))
    assert queries <= PAGE_BUDGET, "\n".join(sql)
    assert "Acme Cloud asks: Change how you are billed" in html  # the pending switch, answered here
    assert "USD 100.00" in html  # unused, unexpired vouchers: 40 + 60
    assert "Globex" in html  # the invitation waiting for the customer


def test_the_account_center_lists_the_latest_vouchers_and_totals_every_unused_one(
    client, customer_user, partner, customer
):
    """The vouchers' one statement reads the latest rows and the unused ones beyond them."""
    now = timezone.now()
    Voucher.objects.create(
        partner=partner, customer=customer, amount=Decimal("3.00"), expires_at=now + timedelta(days=9),
    )
    for _ in range(25):
        Voucher.objects.create(
            partner=partner, customer=customer, amount=Decimal("1.00"), expires_at=now + timedelta(days=9),
            status="used",
        )
    client.force_login(customer_user)
    html = client.get(reverse("account_center:home")).content.decode()
    assert "USD 3.00" in html  # the total counts the old unused voucher
    assert html.count("USD 1.00") == 20  # the table lists the latest 20


def test_the_account_center_lists_the_latest_requests_and_finds_an_older_pending_one(client, customer_user, customer):
    association = customer.associations.get()
    now = timezone.now()
    f.AssociationRequestFactory(
        association=association, kind="switch", created_at=now - timedelta(days=30), deadline=now + timedelta(days=2)
    )
    for day in range(12):
        f.AssociationRequestFactory(
            association=association, kind="unbind", status=AssociationRequest.Status.CANCELLED,
            created_at=now - timedelta(days=day),
        )
    client.force_login(customer_user)
    html = client.get(reverse("account_center:home")).content.decode()
    assert "Acme Cloud asks: Change how you are billed" in html


@pytest.mark.django_db(transaction=True)
def test_the_member_sign_in_post_spends_at_most_ten_statements_and_writes_the_session_once(client):
    partner = f.PartnerFactory(account_name="acme", name="Acme Cloud")
    f.MemberFactory(partner=partner, member_name="admin", roles=["system_admin"], is_partner_admin=True)
    client.get(reverse("login"))
    with CaptureQueriesContext(connection) as captured:
        response = client.post(
            reverse("login"), {"partner_account": "acme", "member_name": "admin", "password": f.DEFAULT_PASSWORD}
        )
    assert response.status_code == 302
    sql = [q["sql"] for q in captured.captured_queries]
    assert len(sql) <= SIGN_IN_BUDGET, "\n".join(sql)
    session_writes = [s for s in sql if "django_session" in s and not s.startswith("SELECT")]
    assert len(session_writes) == 1 and session_writes[0].startswith("INSERT"), session_writes
    # The session works: the next page is the signed-in home.
    assert client.get(response["Location"]).status_code == 200
    assert Session.objects.count() == 1


def test_signing_in_gives_an_existing_session_a_new_key_and_deletes_the_old(client, admin_member, settings):
    settings.SESSION_ENGINE = "partnercenter.sessions.db"
    session = client.session
    session["before"] = "kept"
    session.save()
    old_key = session.session_key
    client.cookies[settings.SESSION_COOKIE_NAME] = old_key
    response = client.post(
        reverse("login"), {"partner_account": "acme", "member_name": "admin", "password": f.DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    new_key = response.cookies[settings.SESSION_COOKIE_NAME].value
    assert new_key != old_key
    assert not Session.objects.filter(session_key=old_key).exists()
    assert Session.objects.get(session_key=new_key).get_decoded()["before"] == "kept"


def test_a_drawn_session_key_that_exists_already_is_replaced(db, settings):
    """Keys are not looked up before use: the INSERT is refused and another key drawn."""
    from partnercenter.sessions.db import SessionStore

    taken = SessionStore()
    taken.create()
    store = SessionStore()
    store["x"] = 1
    store.cycle_key()
    store._session_key = taken.session_key  # as if the random key had been drawn twice
    store.save()
    assert store.session_key != taken.session_key
    assert SessionStore(store.session_key).load() == {"x": 1}
    assert SessionStore(taken.session_key).exists(taken.session_key)
