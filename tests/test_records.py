"""The Association operation records page, a record's detail page, and the customer's own log
in the Account Center."""
import threading
import time
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.db import connection, connections, transaction
from django.http import HttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import OperationRecord
from audit.services import record
from organization.models import Role
from partnercenter import factories as f
from partnercenter.middleware import RequestIdMiddleware

LIST = reverse("audit:list")


def detail(rec):
    return reverse("audit:detail", args=[rec.pk])


def rows(response):
    return [r.pk for r in response.context["page"].rows]


def at(day: str, hour: int = 12):
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


@pytest.fixture
def records(partner, customer, other_partner):
    """Three records of ``partner`` (oldest first) and one of another partner."""
    created = f.OperationRecordFactory(partner=partner, customer=customer, created_at=at("2026-03-01"))
    switched = f.OperationRecordFactory(
        partner=partner, customer=customer, event="association.switched", created_at=at("2026-03-10"),
        reason="The customer asked for invoices from us", before={"type": "referral"}, after={"type": "reseller"},
    )
    member = f.OperationRecordFactory(
        partner=partner, event="member.created", actor_name="Alice Admin", created_at=at("2026-03-20"),
    )
    foreign = f.OperationRecordFactory(partner=other_partner, event="association.created")
    return {"created": created, "switched": switched, "member": member, "foreign": foreign}


def test_it_lists_the_partners_records_newest_first(as_user, admin_member, records):
    response = as_user(admin_member).get(LIST)
    assert response.status_code == 200
    assert rows(response) == [records["member"].pk, records["switched"].pk, records["created"].pk]
    assert b"Association type switched" in response.content
    assert b"Alice Admin" in response.content


def test_the_page_is_reached_from_the_top_of_customer_management(as_user, admin_member):
    body = as_user(admin_member).get(reverse("customers:list")).content.decode()
    assert f'href="{LIST}"' in body


def test_it_gives_404_for_another_partners_record(as_user, admin_member, records):
    assert as_user(admin_member).get(detail(records["foreign"])).status_code == 404


def test_it_gives_404_for_a_record_that_does_not_exist(as_user, admin_member, records):
    client = as_user(admin_member)
    assert client.get("/records/987654/").status_code == 404
    assert client.get("/records/99999999999999999999999999/").status_code == 404


def test_it_requires_the_view_records_permission(as_user, member_without_permission, records):
    client = as_user(member_without_permission)
    assert client.get(LIST).status_code == 403
    assert client.get(detail(records["created"])).status_code == 403


def test_a_read_only_member_sees_the_records(as_user, viewer, records):
    client = as_user(viewer)
    assert client.get(LIST).status_code == 200
    assert client.get(detail(records["switched"])).status_code == 200


def test_it_shows_the_no_access_page_to_a_customer_user(as_user, customer_user, records):
    response = as_user(customer_user).get(LIST)
    assert response.status_code == 403
    assert b"No access" in response.content
    assert b"Alice Admin" not in response.content


def test_it_sends_anonymous_visitors_to_sign_in(client, records):
    for url in (LIST, detail(records["created"])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_the_page_refuses_post(as_user, admin_member):
    assert as_user(admin_member).post(LIST).status_code == 405


def test_the_detail_shows_before_and_after_side_by_side(as_user, admin_member, partner, customer):
    rec = f.OperationRecordFactory(
        partner=partner, customer=customer, event="association.switched", actor_name="Bob Boss",
        actor_kind="member", ip="203.0.113.9", request_id="req-0123456789", reason="Cheaper invoicing",
        before={"type": "referral", "note": "只读"}, after={"type": "reseller", "withdraw_only": True},
    )
    response = as_user(admin_member).get(detail(rec))
    assert response.status_code == 200
    body = response.content.decode()
    for text in ("Association type switched", "Cheaper invoicing", "Bob Boss", "Member", "203.0.113.9",
                 "req-0123456789", "cust-one"):
        assert text in body
    changes = {c["key"]: c for c in response.context["changes"]}
    assert (changes["type"]["before"], changes["type"]["after"], changes["type"]["changed"]) == (
        "referral", "reseller", True,
    )
    assert (changes["note"]["before"], changes["note"]["after"]) == ("只读", None)
    assert (changes["withdraw_only"]["before"], changes["withdraw_only"]["after"]) == (None, "true")


def test_the_detail_marks_only_what_changed(as_user, admin_member, partner):
    rec = f.OperationRecordFactory(partner=partner, before={"a": 1, "b": 2}, after={"a": 1, "b": 3})
    changes = as_user(admin_member).get(detail(rec)).context["changes"]
    assert [(c["key"], c["changed"]) for c in changes] == [("a", False), ("b", True)]


def test_a_dissociation_request_is_opened_from_its_record(as_user, admin_member, partner, customer):
    association = customer.associations.get()
    request = f.AssociationRequestFactory(association=association, kind="dissociation")
    rec = f.OperationRecordFactory(
        partner=partner, customer=customer, association=association, association_request=request,
        event="request.submitted", actor_kind="customer",
    )
    client = as_user(admin_member)
    link = reverse("customers:request_detail", args=[request.pk])
    assert f'href="{link}"' in client.get(detail(rec)).content.decode()
    assert client.get(link).status_code == 200


def test_a_resellers_record_does_not_link_to_the_resellers_request(as_user, partner):
    distributor = f.DistributorFactory(account_name="dist-link")
    reseller = f.ResellerFactory(distributor=distributor)
    association = f.AssociationFactory(partner=reseller)
    request = f.AssociationRequestFactory(association=association)
    rec = f.OperationRecordFactory(partner=reseller, association=association, association_request=request)
    body = as_user(f.MemberFactory(partner=distributor, member_name="admin")).get(detail(rec)).content.decode()
    assert f"#{request.pk}" in body
    assert reverse("customers:request_detail", args=[request.pk]) not in body


def test_a_record_written_during_a_request_carries_its_id_and_ip(rf, partner):
    def view(request):
        with transaction.atomic():
            rec = record(event="partner.updated", partner=partner)
        return HttpResponse(str(rec.pk))

    response = RequestIdMiddleware(view)(rf.get("/", REMOTE_ADDR="198.51.100.4"))
    rec = OperationRecord.objects.get(pk=int(response.content))
    assert rec.request_id == response["X-Request-ID"]
    assert rec.ip == "198.51.100.4"


class TestFilters:
    def test_by_event(self, as_user, admin_member, records):
        response = as_user(admin_member).get(LIST, {"event": "association.switched"})
        assert rows(response) == [records["switched"].pk]

    def test_by_category(self, as_user, admin_member, records):
        response = as_user(admin_member).get(LIST, {"category": "organization"})
        assert rows(response) == [records["member"].pk]

    def test_by_customer_account_name_exactly_or_any_part_of_the_name(self, as_user, admin_member, partner, records):
        lookalike = f.CustomerFactory(account_name="cust-one-b", name="Lookalike")
        other = f.OperationRecordFactory(partner=partner, customer=lookalike)
        client = as_user(admin_member)
        wanted = [records["switched"].pk, records["created"].pk]
        assert rows(client.get(LIST, {"customer": "CUST-ONE"})) == wanted
        assert rows(client.get(LIST, {"customer": "omer on"})) == wanted
        assert rows(client.get(LIST, {"customer": "lookalike"})) == [other.pk]

    def test_by_actor_name_and_kind(self, as_user, admin_member, partner, records):
        system = f.OperationRecordFactory(partner=partner, actor_kind="system", actor_name="system")
        client = as_user(admin_member)
        assert rows(client.get(LIST, {"actor": "alice"})) == [records["member"].pk]
        assert rows(client.get(LIST, {"actor_kind": "system"})) == [system.pk]

    def test_by_date_range_with_both_days_included(self, as_user, admin_member, partner, records):
        late = f.OperationRecordFactory(partner=partner, created_at=at("2026-03-20", hour=23).replace(minute=59))
        client = as_user(admin_member)
        response = client.get(LIST, {"date_from": "2026-03-10", "date_to": "2026-03-20"})
        assert rows(response) == [late.pk, records["member"].pk, records["switched"].pk]
        assert rows(client.get(LIST, {"date_to": "2026-03-01"})) == [records["created"].pk]

    def test_the_first_and_last_possible_days_are_accepted(self, as_user, admin_member, records):
        client = as_user(admin_member)
        response = client.get(LIST, {"date_from": "2026-03-15", "date_to": "9999-12-31"})
        assert rows(response) == [records["member"].pk]
        response = client.get(LIST, {"date_from": "0001-01-01", "date_to": "2026-03-01"})
        assert rows(response) == [records["created"].pk]

    def test_a_customer_detail_links_to_its_records(self, as_user, admin_member, customer, records):
        body = as_user(admin_member).get(reverse("customers:detail", args=[customer.pk])).content.decode()
        assert f'href="{LIST}?customer=cust-one"' in body


class TestBadFilterInput:
    @pytest.mark.parametrize(
        ("params", "message"),
        [
            ({"date_from": "2026-02-30"}, "Enter a valid date."),
            ({"date_to": "yesterday"}, "Enter a valid date."),
            ({"date_from": "2026-03-10", "date_to": "2026-03-01"}, "The end date is before the start date."),
            ({"event": "records.deleted"}, "Select a valid choice."),
            ({"category": "everything"}, "Select a valid choice."),
            ({"actor_kind": "robot"}, "Select a valid choice."),
            ({"customer": "x" * 101}, "Ensure this value has at most 100 characters"),
            ({"actor": "a\x00b"}, "Null characters are not allowed."),
        ],
    )
    def test_it_is_a_form_error_and_no_records(self, as_user, admin_member, records, params, message):
        response = as_user(admin_member).get(LIST, params)
        assert response.status_code == 200
        assert "Some filters are not valid" in response.content.decode()
        assert message in response.content.decode()
        assert rows(response) == []

    def test_a_forged_cursor_shows_the_first_page_with_a_message(self, as_user, admin_member, records):
        response = as_user(admin_member).get(LIST, {"cursor": "eyJ2IjpbMV0sImQiOiJuZXh0In0:forged:sig"})
        assert response.status_code == 200
        assert b"no longer valid" in response.content
        assert rows(response) == [records["member"].pk, records["switched"].pk, records["created"].pk]

    def test_a_huge_cursor_shows_the_first_page_with_a_message(self, as_user, admin_member, records):
        response = as_user(admin_member).get(LIST, {"cursor": "x" * 100_000})
        assert response.status_code == 200
        assert b"no longer valid" in response.content

    def test_a_cursor_from_another_partner_is_refused(self, as_user, admin_member, other_member, partner, settings):
        settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "PAGE_SIZE": 2}
        f.OperationRecordFactory.create_batch(3, partner=other_member.partner)
        foreign_cursor = as_user(other_member).get(LIST).context["page"].next_cursor
        response = as_user(admin_member).get(LIST, {"cursor": foreign_cursor})
        assert b"no longer valid" in response.content


def _walk(client, params=None, between_pages=None):
    seen, cursor = [], None
    while True:
        response = client.get(LIST, {**(params or {}), **({"cursor": cursor} if cursor else {})})
        seen += rows(response)
        cursor = response.context["page"].next_cursor
        if not cursor:
            return seen
        if between_pages:
            between_pages()


class TestKeysetPagination:
    @pytest.fixture(autouse=True)
    def small_pages(self, settings):
        settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "PAGE_SIZE": 4}

    def test_a_cursor_from_one_filter_is_not_used_with_another(self, as_user, admin_member, partner):
        f.OperationRecordFactory.create_batch(6, partner=partner, event="association.created")
        made = f.OperationRecordFactory.create_batch(6, partner=partner, event="association.switched")
        switched = [r.pk for r in made]
        client = as_user(admin_member)
        cursor = client.get(LIST, {"event": "association.created"}).context["page"].next_cursor
        response = client.get(LIST, {"event": "association.switched", "cursor": cursor})
        assert b"no longer valid" in response.content
        assert rows(response) == sorted(switched, reverse=True)[:4]

    def test_page_two_of_the_unfiltered_list_is_still_unfiltered(self, as_user, admin_member, partner):
        made = [r.pk for r in f.OperationRecordFactory.create_batch(6, partner=partner)]
        client = as_user(admin_member)
        cursor = client.get(LIST).context["page"].next_cursor
        response = client.get(LIST, {"cursor": cursor})
        assert b"no longer valid" not in response.content
        assert rows(response) == sorted(made, reverse=True)[4:]

    def test_pages_cover_every_record_once_newest_first(self, as_user, admin_member, partner):
        made = [r.pk for r in f.OperationRecordFactory.create_batch(11, partner=partner)]
        assert _walk(as_user(admin_member)) == sorted(made, reverse=True)

    def test_records_written_between_page_loads_cause_no_skip_or_repeat(self, as_user, admin_member, partner):
        before = [r.pk for r in f.OperationRecordFactory.create_batch(13, partner=partner)]
        arrived = []

        def new_records_arrive():
            arrived.extend(r.pk for r in f.OperationRecordFactory.create_batch(3, partner=partner))

        client = as_user(admin_member)
        assert _walk(client, between_pages=new_records_arrive) == sorted(before, reverse=True)
        assert len(arrived) == 9
        assert rows(client.get(LIST))[:4] == sorted(arrived, reverse=True)[:4]

    def test_a_filtered_walk_keeps_its_filter(self, as_user, admin_member, partner):
        wanted = [r.pk for r in f.OperationRecordFactory.create_batch(6, partner=partner, event="funds.allocated")]
        f.OperationRecordFactory.create_batch(6, partner=partner, event="voucher.issued")
        assert _walk(as_user(admin_member), {"event": "funds.allocated"}) == sorted(wanted, reverse=True)

    def test_the_previous_page_returns_the_same_records(self, as_user, admin_member, partner):
        f.OperationRecordFactory.create_batch(10, partner=partner)
        client = as_user(admin_member)
        first = client.get(LIST).context["page"]
        second = client.get(LIST, {"cursor": first.next_cursor}).context["page"]
        back = client.get(LIST, {"cursor": second.prev_cursor}).context["page"]
        assert [r.pk for r in back.rows] == [r.pk for r in first.rows]

    def test_the_count_is_an_estimate_past_the_limit(self, as_user, admin_member, partner, settings):
        settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "EXACT_COUNT_LIMIT": 5}
        f.OperationRecordFactory.create_batch(8, partner=partner)
        response = as_user(admin_member).get(LIST)
        assert response.context["total_is_estimate"] is True
        assert b"About" in response.content


def _session_queries() -> int:
    """Reading the session is a query, unless sessions come from the shared cache (CACHE_URL
    set: the cached_db engine)."""
    return 0 if settings.SESSION_ENGINE.endswith("cached_db") else 1


def _queries(client, url, params=None):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params or {}).status_code == 200
    return len(ctx.captured_queries)


class TestQueryCount:
    @pytest.fixture
    def distributor_admin(self, db):
        distributor = f.DistributorFactory(account_name="dist-q")
        return f.MemberFactory(partner=distributor, member_name="admin")

    def _fill(self, partner, n):
        for i in range(n):
            customer = f.CustomerFactory(name=f"Filler {i}") if i % 2 else None
            f.OperationRecordFactory(partner=partner, customer=customer)

    @pytest.mark.parametrize("params", [{}, {"event": "association.created", "customer": "filler"}])
    def test_the_page_costs_the_same_few_queries_however_many_records(
        self, as_user, admin_member, partner, settings, params, django_assert_max_num_queries
    ):
        settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "PAGE_SIZE": 10}
        client = as_user(admin_member)
        client.get(LIST)  # warm the session
        self._fill(partner, 30)
        few = _queries(client, LIST, params)
        self._fill(partner, 90)
        first = client.get(LIST, params).context["page"]
        deep = client.get(LIST, {**params, "cursor": first.next_cursor}).context["page"]
        # session, user with partner, roles with permissions, rows, bounded count
        with django_assert_max_num_queries(6):
            many = _queries(client, LIST, params)
        assert few == many == _queries(client, LIST, {**params, "cursor": deep.next_cursor})

    def test_the_resellers_tab_costs_the_same(self, as_user, distributor_admin, django_assert_max_num_queries):
        reseller = f.ResellerFactory(distributor=distributor_admin.partner)
        client = as_user(distributor_admin)
        client.get(LIST)
        self._fill(reseller, 60)
        few = _queries(client, LIST, {"tab": "resellers"})
        self._fill(reseller, 120)
        with django_assert_max_num_queries(6):
            many = _queries(client, LIST, {"tab": "resellers"})
        assert few == many

    def test_a_single_page_is_its_own_count(self, as_user, admin_member, partner):
        client = as_user(admin_member)
        client.get(LIST)
        self._fill(partner, 3)
        # session, user with partner, roles with permissions, rows
        assert _queries(client, LIST) == _session_queries() + 3

    def test_the_detail_page_is_one_query_for_the_record(self, as_user, admin_member, customer, partner):
        client = as_user(admin_member)
        client.get(LIST)
        rec = f.OperationRecordFactory(partner=partner, customer=customer)
        # session, user with partner, roles with permissions, the record with its customer
        assert _queries(client, detail(rec)) == _session_queries() + 3


class TestDistributorTabs:
    @pytest.fixture
    def reseller_admin(self, reseller):
        return f.MemberFactory(partner=reseller, member_name="admin")

    @pytest.fixture
    def data(self, distributor, reseller, other_partner):
        return {
            "own": f.OperationRecordFactory(partner=distributor, actor_name="Dist Person"),
            "reseller": f.OperationRecordFactory(partner=reseller, actor_name="Reseller Person"),
            "foreign": f.OperationRecordFactory(partner=other_partner, actor_name="Outsider Person"),
        }

    def test_my_customers_tab_shows_only_its_own_records(self, as_user, dist_admin, data):
        response = as_user(dist_admin).get(LIST)
        assert rows(response) == [data["own"].pk]
        assert "Resellers' customers" in response.content.decode().replace("&#x27;", "'")

    def test_resellers_tab_shows_the_resellers_records_with_the_resellers_name(self, as_user, dist_admin, data):
        response = as_user(dist_admin).get(LIST, {"tab": "resellers"})
        assert rows(response) == [data["reseller"].pk]
        assert b"Reseller R" in response.content

    def test_the_customer_lists_resellers_tab_links_to_the_resellers_records(self, as_user, dist_admin, data):
        body = as_user(dist_admin).get(reverse("customers:list"), {"tab": "resellers"}).content.decode()
        assert f'href="{LIST}?tab=resellers"' in body

    def test_a_distributor_opens_a_resellers_record(self, as_user, dist_admin, data):
        response = as_user(dist_admin).get(detail(data["reseller"]))
        assert response.status_code == 200
        assert b"Reseller R" in response.content

    def test_a_reseller_sees_neither_its_distributors_nor_a_tab(self, as_user, reseller_admin, data):
        client = as_user(reseller_admin)
        assert client.get(detail(data["own"])).status_code == 404
        response = client.get(LIST, {"tab": "resellers"})
        assert response.context["tab"] == "mine"
        assert rows(response) == [data["reseller"].pk]

    def test_a_distributor_gets_404_for_an_unrelated_partners_record(self, as_user, dist_admin, data):
        assert as_user(dist_admin).get(detail(data["foreign"])).status_code == 404

    def test_a_non_distributor_has_no_resellers_tab(self, as_user, admin_member, partner):
        own = f.OperationRecordFactory(partner=partner)
        response = as_user(admin_member).get(LIST, {"tab": "resellers"})
        assert response.context["tab"] == "mine"
        assert rows(response) == [own.pk]


class TestCustomerManagerScope:
    @pytest.fixture
    def data(self, partner, manager, supervisor):
        other_manager = f.MemberFactory(partner=partner, member_name="other-mgr", roles=["customer_manager"])
        mine = f.CustomerFactory(account_name="mine", manager=manager)
        theirs = f.CustomerFactory(account_name="theirs", manager=other_manager)
        return {
            "mine": f.OperationRecordFactory(partner=partner, customer=mine),
            "theirs": f.OperationRecordFactory(partner=partner, customer=theirs),
            "no_customer": f.OperationRecordFactory(partner=partner, event="member.created"),
        }

    def test_a_manager_sees_only_records_of_managed_customers(self, as_user, manager, data):
        client = as_user(manager)
        assert rows(client.get(LIST)) == [data["mine"].pk]
        assert client.get(detail(data["theirs"])).status_code == 404
        assert client.get(detail(data["no_customer"])).status_code == 404
        assert client.get(detail(data["mine"])).status_code == 200

    def test_a_supervisor_sees_the_records_of_supervised_managers(self, as_user, supervisor, data):
        assert rows(as_user(supervisor).get(LIST)) == [data["mine"].pk]

    def test_an_administrator_sees_all(self, as_user, admin_member, data):
        assert len(rows(as_user(admin_member).get(LIST))) == 3


def test_the_page_speaks_chinese(as_user, admin_member, records):
    response = as_user(admin_member).get(LIST, HTTP_ACCEPT_LANGUAGE="zh-hans")
    body = response.content.decode()
    assert "关联关系操作记录" in body
    assert "Association operation records" not in body


class TestAccountCenterLog:
    URL = reverse("account_center:records")

    def test_the_customer_sees_its_own_records(self, as_user, customer_user, customer, partner, records):
        someone_else = f.OperationRecordFactory(partner=partner, customer=f.CustomerFactory())
        response = as_user(customer_user).get(self.URL)
        assert response.status_code == 200
        assert rows(response) == [records["switched"].pk, records["created"].pk]
        assert someone_else.pk not in rows(response)
        assert b"The customer asked for invoices from us" in response.content
        assert b"Acme Cloud" in response.content

    def test_it_includes_records_from_an_earlier_partner(self, as_user, customer_user, customer, other_partner):
        earlier = f.OperationRecordFactory(partner=other_partner, customer=customer, event="association.ended")
        assert rows(as_user(customer_user).get(self.URL)) == [earlier.pk]

    def test_it_leaves_out_the_partners_internal_assignments(self, as_user, customer_user, customer, partner):
        f.OperationRecordFactory(partner=partner, customer=customer, event="customer.manager_assigned")
        assert rows(as_user(customer_user).get(self.URL)) == []

    def test_the_customers_own_actions_show_as_theirs(self, as_user, customer_user, customer, partner):
        f.OperationRecordFactory(
            partner=partner, customer=customer, actor=customer_user, actor_kind="customer", event="request.submitted"
        )
        assert b"You" in as_user(customer_user).get(self.URL).content

    def test_it_is_keyset_paginated(self, as_user, customer_user, customer, partner, settings):
        settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "PAGE_SIZE": 3}
        made = [r.pk for r in f.OperationRecordFactory.create_batch(7, partner=partner, customer=customer)]
        client = as_user(customer_user)
        seen, cursor = [], None
        while True:
            page = client.get(self.URL, {"cursor": cursor} if cursor else {}).context["page"]
            seen += [r.pk for r in page.rows]
            if not (cursor := page.next_cursor):
                break
        assert seen == sorted(made, reverse=True)

    def test_a_forged_cursor_shows_the_first_page_with_a_message(self, as_user, customer_user, records):
        response = as_user(customer_user).get(self.URL, {"cursor": "forged"})
        assert response.status_code == 200
        assert b"no longer valid" in response.content

    def test_my_partner_links_to_the_log(self, as_user, customer_user):
        body = as_user(customer_user).get(reverse("account_center:home")).content.decode()
        assert f'href="{self.URL}"' in body

    def test_members_get_the_no_access_page(self, as_user, admin_member):
        response = as_user(admin_member).get(self.URL)
        assert response.status_code == 403

    def test_anonymous_visitors_are_sent_to_the_customer_sign_in(self, client):
        response = client.get(self.URL)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("customer_login"))

    def test_the_query_count_does_not_grow(self, as_user, customer_user, customer, partner):
        client = as_user(customer_user)
        client.get(self.URL)
        f.OperationRecordFactory.create_batch(3, partner=partner, customer=customer)
        # session, user, customer, rows (a single page is its own count)
        assert _queries(client, self.URL) == _session_queries() + 3
        f.OperationRecordFactory.create_batch(60, partner=partner, customer=customer)
        many = _queries(client, self.URL)
        f.OperationRecordFactory.create_batch(60, partner=partner, customer=customer)
        # and the bounded count once there are more pages
        assert many == _queries(client, self.URL) == _session_queries() + 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_pages_neither_skip_nor_repeat_while_another_connection_commits_records(client, settings):
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "PAGE_SIZE": 7}
    # A transactional test starts from a flushed database: no built-in roles, so a custom one.
    partner = f.PartnerFactory(account_name="tx-paging")
    role = Role.objects.create(partner=partner, name="Records reader")
    role.permissions.add(Permission.objects.get(content_type__app_label="audit", codename="view_operationrecord"))
    client.force_login(
        f.MemberFactory(partner=partner, member_name="reader", roles=[role]),
        backend="organization.backends.RolePermissionBackend",
    )
    existing = [r.pk for r in f.OperationRecordFactory.create_batch(40, partner=partner)]
    page = client.get(LIST).context["page"]
    seen = [r.pk for r in page.rows]

    stop, written = threading.Event(), []

    def writer():
        try:
            while not stop.is_set():
                with transaction.atomic():
                    pk = record(event="partner.updated", partner=partner).pk
                written.append(pk)
        finally:
            connections.close_all()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while page.next_cursor:
            before = len(written)
            deadline = time.monotonic() + 10
            while len(written) < before + 2 and time.monotonic() < deadline:
                time.sleep(0.005)
            page = client.get(LIST, {"cursor": page.next_cursor}).context["page"]
            seen += [r.pk for r in page.rows]
    finally:
        stop.set()
        thread.join(timeout=30)
    assert len(written) >= 10, "records were committed while the pages were read"
    assert seen == sorted(existing, reverse=True)
    assert [r.pk for r in client.get(LIST).context["page"].rows] == sorted(written, reverse=True)[:7]


def test_rows_escape_typed_text_shorten_long_reasons_and_speak_the_language(as_user, admin_member, partner):
    evil = f.CustomerFactory(account_name="evil-2", name="<i>Evil</i> & Co")
    rec = f.OperationRecordFactory(
        partner=partner, customer=evil, actor_name='<b onclick="x">Bob</b>', actor_kind="member",
        event="funds.allocated", category="funds", reason="<script>" + "x" * 200,
        created_at=datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC),
    )
    body = as_user(admin_member).get(LIST).content.decode()
    row = body[body.index("2026-03-04 05:06:07"):]
    row = row[: row.index("</tr>")]
    assert "<i>" not in row and "<b " not in row and "<script>" not in row
    assert "&lt;i&gt;Evil&lt;/i&gt; &amp; Co" in row and "&lt;b onclick=&quot;x&quot;&gt;Bob&lt;/b&gt;" in row
    assert "&lt;script&gt;" + "x" * 71 + "…" in row
    assert f'href="{detail(rec)}"' in row and "Funds allocated" in row and "Member" in row
    zh = as_user(admin_member).get(LIST, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    zh_row = zh[zh.index("2026-03-04 05:06:07"):]
    zh_row = zh_row[: zh_row.index("</tr>")]
    assert "已拨款" in zh_row and "资金" in zh_row and "组织人员" in zh_row and "详情" in zh_row
