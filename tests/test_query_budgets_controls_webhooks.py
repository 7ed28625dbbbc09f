"""Query budgets of the webhook pages, the reseller-controls pages (batches, settings, the
customer page's freeze and budget) and their API reads: each within its budget, and the same
count for a few rows as for many (a query per row would show as a difference), on the first
page and a later one.

Sessions are read as production reads them (the shared cache, ``cached_db``), as in
``tests/test_query_budgets.py``: a page's count is the user, the roles and what the page reads."""
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from api import services as api_services
from customers.controls import batches
from customers.controls.services import customer_budget_set, customer_freeze
from customers.models import Association, PartnerControls
from organization.models import Partner
from partnercenter import factories as f
from tests.budgets import count, within
from webhooks.models import Delivery, Endpoint

STATUSES = ["delivered", "failed", "queued", "delivered", "sending"]


@pytest.fixture(autouse=True)
def _sessions_as_in_production(settings):
    settings.SESSION_ENGINE = "partnercenter.sessions.cached_db"


@pytest.fixture
def api(client, admin_member):
    """A client with a partner token of the System Administrator (manage webhooks included)."""
    raw = api_services.partner_token_create(member=admin_member)[1]
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    return client


# Webhooks -----------------------------------------------------------------------------------------


def endpoints(partner, n: int) -> list[Endpoint]:
    start = Endpoint.objects.filter(partner=partner).count()
    return [Endpoint.objects.create(partner=partner, url=f"https://hooks.example.com/{start + i}", secret="whsec_x",
                                    all_events=i % 2 == 0, events=[] if i % 2 == 0 else ["funds.allocated"],
                                    description=f"ERP {start + i}") for i in range(n)]


def deliveries(endpoint: Endpoint, n: int) -> None:
    now = timezone.now()
    Delivery.objects.bulk_create([
        Delivery(endpoint=endpoint, event_id=f"msg_{endpoint.pk}_{i}_{now.timestamp()}", event="funds.allocated",
                 body='{"type": "funds.allocated"}', status=STATUSES[i % len(STATUSES)], attempts=1 + i % 3,
                 status_code=200 if i % 5 in (0, 3) else 500, latency_ms=40 + i, last_error="" if i % 5 else "",
                 last_attempt_at=now, due_at=now)
        for i in range(n)
    ])


ENDPOINT_LIST = 3  # user, roles, endpoints
ENDPOINT_DETAIL = 5  # user, roles, endpoint, deliveries, bounded count
API_ENDPOINTS = 3  # token with member and partner, roles, endpoints
API_DELIVERIES = 4  # token, roles, endpoint, deliveries


def test_the_endpoint_list_stays_within_its_budget_however_many_endpoints(as_user, admin_member, partner):
    client = as_user(admin_member)
    url = reverse("webhooks:list")
    endpoints(partner, 1)
    few = count(client, url)
    endpoints(partner, 9)
    many = count(client, url)
    body = within(ENDPOINT_LIST, many)
    assert few[0] == many[0], "\n".join(many[2])
    assert body.count(b"https://hooks.example.com/") == 10


def test_the_endpoint_page_and_its_delivery_log_stay_within_their_budget(as_user, admin_member, partner, settings):
    client = as_user(admin_member)
    [endpoint] = endpoints(partner, 1)
    url = reverse("webhooks:detail", args=[endpoint.pk])
    deliveries(endpoint, 3)
    few = count(client, url)
    deliveries(endpoint, 27)
    many = count(client, url)  # one page of 30 rows, as of 3: no count needed either time
    assert few[0] == many[0], "\n".join(many[2])
    assert many[1].count(b">Redeliver<") == 19  # 30 rows, eleven of them still queued or sending
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "PAGE_SIZE": 10}
    first = count(client, url)
    body = within(ENDPOINT_DETAIL, first)  # now with the bounded count of a list longer than its page
    assert body.count(b">Redeliver<") == 6
    second = client.get(url).context["page"].next_cursor
    deep = count(client, url, {"cursor": second})
    assert deep[0] == first[0] and deep[1].count(b"msg_") == 10


def test_the_api_endpoint_reads_stay_within_their_budget(api, partner):
    endpoints(partner, 1)
    few = count(api, "/api/v1/webhooks")
    made = endpoints(partner, 9)
    many = count(api, "/api/v1/webhooks")
    within(API_ENDPOINTS, many)
    assert few[0] == many[0] and len(json.loads(many[1])) == 10
    within(API_ENDPOINTS, count(api, f"/api/v1/webhooks/{made[0].pk}"))
    within(API_ENDPOINTS - 1, count(api, "/api/v1/webhook-event-types"))  # no read of its own


def test_the_api_delivery_log_stays_within_its_budget_on_every_page(api, partner):
    [endpoint] = endpoints(partner, 1)
    url = f"/api/v1/webhooks/{endpoint.pk}/deliveries"
    deliveries(endpoint, 3)
    few = count(api, url, {"limit": 10})
    deliveries(endpoint, 27)
    many = count(api, url, {"limit": 10})
    within(API_DELIVERIES, many)
    assert few[0] == many[0]
    page = json.loads(many[1])
    assert len(page["results"]) == 10
    deep = count(api, url, {"limit": 10, "cursor": page["next_cursor"]})
    assert deep[0] == many[0] and len(json.loads(deep[1])["results"]) == 10


# Batches ------------------------------------------------------------------------------------------


def finished_batch(member, partner, n: int, prefix: str):
    made = []
    for i in range(n):
        customer = f.CustomerFactory(account_name=f"{prefix}-{i}", name=f"Batch Co {prefix} {i}")
        f.AssociationFactory(partner=partner, customer=customer, type=Association.Type.RESELLER)
        made.append(customer.pk)
    made.append(987654321 + n)  # an id that names no customer: a refused row without a customer
    batch = batches.batch_create(actor=member, action="budget", customer_ids=made, amount=Decimal("75.00"))
    batches.batch_run(batch_id=batch.pk)
    return batch


BATCH_DETAIL = 4  # user, roles, batch (with who started it and its progress), rows with their customers
# user, roles, batch, rows with their customers (on PostgreSQL one COPY, after the export's
# own statement timeout is set)
BATCH_CSV = 5 if connection.vendor == "postgresql" else 4
API_BATCH = 3  # token, roles, batch with its progress
API_BATCH_ROWS = 4  # token, roles, batch, rows with their customers


@pytest.fixture
def two_batches(admin_member, partner):
    return finished_batch(admin_member, partner, 3, "few"), finished_batch(admin_member, partner, 30, "many")


def test_the_batch_result_page_stays_within_its_budget_however_many_rows(as_user, admin_member, two_batches):
    client = as_user(admin_member)
    few, many = (count(client, reverse("customers:batch_detail", args=[b.pk])) for b in two_batches)
    body = within(BATCH_DETAIL, many)
    assert few[0] == many[0], "\n".join(many[2])
    assert body.count(b"Batch Co many") == 30 and b"30 changed, 1 not changed, 0 pending." in body


def test_the_batch_csv_stays_within_its_budget_however_many_rows(as_user, admin_member, two_batches):
    client = as_user(admin_member)
    few, many = (count(client, reverse("customers:batch_csv", args=[b.pk])) for b in two_batches)
    body = within(BATCH_CSV, many)
    assert few[0] == many[0], "\n".join(many[2])
    assert body.decode("utf-8-sig").count("many-") == 30


def test_the_api_batch_reads_stay_within_their_budget_on_every_page(api, two_batches):
    small, large = two_batches
    within(API_BATCH, count(api, f"/api/v1/batches/{large.pk}"))
    few = count(api, f"/api/v1/batches/{small.pk}/rows", {"limit": 10})
    many = count(api, f"/api/v1/batches/{large.pk}/rows", {"limit": 10})
    within(API_BATCH_ROWS, many)
    assert few[0] == many[0]
    page = json.loads(many[1])
    assert [r["account_name"] for r in page["results"]][:2] == ["many-0", "many-1"]
    deep = count(api, f"/api/v1/batches/{large.pk}/rows", {"limit": 10, "cursor": page["next_cursor"]})
    assert deep[0] == many[0] and json.loads(deep[1])["results"][0]["account_name"] == "many-10"


# Reseller controls --------------------------------------------------------------------------------

SETTINGS_PAGE = 6  # user, roles, own settings, resellers, their grants, the form's resellers
CUSTOMER_PAGE = 6  # tests/test_query_budgets.py: the customer page, its freeze and budget included
# user, roles, association with customer and who froze it, budget history; a reseller's grant
CONTROLS_FORM = 5
API_CONTROLS = 3  # token, roles, association with customer and who froze it


@pytest.fixture
def dist_member(distributor):
    return f.MemberFactory(partner=distributor, member_name="admin", roles=["system_admin"], is_partner_admin=True)


@pytest.fixture
def reseller_member(reseller):
    return f.MemberFactory(partner=reseller, member_name="admin", roles=["system_admin"], is_partner_admin=True)


def resellers(distributor, n: int) -> None:
    start = Partner.objects.filter(distributor=distributor).count()
    for i in range(n):
        reseller = f.ResellerFactory(distributor=distributor, account_name=f"res-{start + i}")
        if i % 2:
            PartnerControls.objects.create(partner=reseller, freeze_granted=True)


def test_the_controls_settings_page_stays_within_its_budget_however_many_resellers(as_user, dist_member,
                                                                                   distributor):
    client = as_user(dist_member)
    url = reverse("customers:controls_settings")
    resellers(distributor, 2)
    few = count(client, url)
    resellers(distributor, 10)
    many = count(client, url)
    body = within(SETTINGS_PAGE, many)
    assert few[0] == many[0], "\n".join(many[2])
    assert body.count(b'name="granted_resellers"') == 12 and body.count(b"checked") == 6  # every other one


def test_a_partners_controls_settings_page_reads_no_resellers(as_user, admin_member):
    within(SETTINGS_PAGE - 2, count(as_user(admin_member), reverse("customers:controls_settings")))


@pytest.fixture
def frozen_reseller_customer(reseller, reseller_member, dist_member):
    """A customer of the reseller, budgeted by the reseller, frozen by the distributor above it."""
    PartnerControls.objects.create(partner=reseller, freeze_granted=True)
    customer = f.CustomerFactory(account_name="frozen-rc", name="Frozen Reseller Customer")
    association = f.AssociationFactory(partner=reseller, customer=customer, type=Association.Type.RESELLER)
    for amount in ("50.00", "80.00", "120.00"):
        association = Association.objects.get(pk=association.pk)
        customer_budget_set(actor=reseller_member, association=association, amount=Decimal(amount), reason="plan")
    customer_freeze(actor=dist_member, association=Association.objects.get(pk=association.pk), reason="overdue")
    return customer


def test_the_customer_page_of_a_frozen_budgeted_customer_stays_within_six(as_user, admin_member, customer):
    association = customer.associations.get()
    customer_budget_set(actor=admin_member, association=association, amount=Decimal("10.00"), reason="r")
    customer_freeze(actor=admin_member, association=Association.objects.get(pk=association.pk), reason="late")
    body = within(CUSTOMER_PAGE, count(as_user(admin_member), reverse("customers:detail", args=[customer.pk])))
    assert b"Frozen by the partner" in body and b"Acme Cloud" in body and b"late" in body


@pytest.mark.parametrize("who", ["reseller_member", "dist_member"])
def test_the_customer_page_shows_who_froze_it_within_six_on_both_sides(request, as_user, who,
                                                                       frozen_reseller_customer):
    member = request.getfixturevalue(who)
    body = within(CUSTOMER_PAGE, count(as_user(member), reverse("customers:detail",
                                                                args=[frozen_reseller_customer.pk])))
    assert b"Frozen by the partner" in body and b"Dist Co" in body and b"overdue" in body


def test_a_reseller_without_its_grant_sees_no_freeze_button_within_six(as_user, reseller, reseller_member,
                                                                       frozen_reseller_customer):
    PartnerControls.objects.filter(partner=reseller).update(freeze_granted=False)
    body = within(CUSTOMER_PAGE, count(as_user(reseller_member), reverse("customers:detail",
                                                                         args=[frozen_reseller_customer.pk])))
    assert b"/freeze/" not in body and b"Frozen by the partner" in body


def test_the_budget_page_stays_within_its_budget_however_long_the_history(as_user, reseller_member,
                                                                          frozen_reseller_customer):
    client = as_user(reseller_member)
    url = reverse("customers:controls_budget", args=[frozen_reseller_customer.pk])
    few = count(client, url)
    association = frozen_reseller_customer.associations.get()
    for i in range(12):
        customer_budget_set(actor=reseller_member, association=Association.objects.get(pk=association.pk),
                            amount=Decimal(200 + i), reason=f"step {i}")
    many = count(client, url)
    body = within(CONTROLS_FORM, many)
    assert few[0] == many[0], "\n".join(many[2])
    assert b"step 11" in body and b"Dist Co" in body


def test_the_api_controls_read_stays_within_its_budget(client, dist_member, frozen_reseller_customer):
    raw = api_services.partner_token_create(member=dist_member)[1]
    body = within(API_CONTROLS, count(client, f"/api/v1/customers/{frozen_reseller_customer.pk}/controls",
                                      HTTP_AUTHORIZATION=f"Bearer {raw}"))
    assert json.loads(body)["frozen_by"] == "partner"
