"""Customer management list and detail (foundation)."""
import re

import pytest
from django.urls import reverse

from customers.models import Association
from partnercenter import factories as f

LIST = reverse("customers:list")


def detail(customer):
    return reverse("customers:detail", args=[customer.pk])


def test_it_shows_the_partners_own_customers(as_user, admin_member, customer, other_partner):
    foreign = f.CustomerFactory(account_name="foreign-1")
    f.AssociationFactory(partner=other_partner, customer=foreign)
    response = as_user(admin_member).get(LIST)
    assert response.status_code == 200
    assert b"cust-one" in response.content
    assert b"foreign-1" not in response.content


def test_it_gives_404_for_another_partners_customer(as_user, other_member, customer):
    assert as_user(other_member).get(detail(customer)).status_code == 404


def test_it_gives_404_for_a_customer_whose_association_ended(as_user, admin_member, customer):
    Association.objects.filter(customer=customer).update(
        status="ended", ended_at="2026-01-01T00:00:00Z", end_reason="unbind"
    )
    assert as_user(admin_member).get(detail(customer)).status_code == 404


def test_it_requires_the_view_customers_permission(as_user, member_without_permission, customer):
    client = as_user(member_without_permission)
    assert client.get(LIST).status_code == 403
    assert client.get(detail(customer)).status_code == 403


def test_it_shows_the_no_access_page_to_a_customer_user(as_user, customer_user):
    response = as_user(customer_user).get(LIST)
    assert response.status_code == 403
    assert b"No access" in response.content
    assert b"Associated since" not in response.content


def test_it_sends_anonymous_visitors_to_sign_in(client):
    response = client.get(LIST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_detail_shows_facts_and_history(as_user, admin_member, customer):
    response = as_user(admin_member).get(detail(customer))
    assert response.status_code == 200
    assert b"Association history" in response.content
    assert b"Customer One" in response.content


def test_search_matches_name_email_and_account(as_user, admin_member, partner):
    for name, account in [("Zebra Corp", "zz-1"), ("Yak Ltd", "yy-2")]:
        f.AssociationFactory(partner=partner, customer=f.CustomerFactory(name=name, account_name=account))
    client = as_user(admin_member)
    assert b"Yak Ltd" not in client.get(LIST, {"q": "zebra"}).content
    assert b"Zebra Corp" in client.get(LIST, {"q": "zebra"}).content
    assert b"Zebra Corp" in client.get(LIST, {"q": "zz-1@customer"}).content
    assert b"Yak Ltd" in client.get(LIST, {"q": "YY-2"}).content


def test_it_filters_by_type_and_status(as_user, admin_member, partner):
    f.AssociationFactory(partner=partner, type="referral", customer=f.CustomerFactory(account_name="ref-1"))
    f.AssociationFactory(
        partner=partner, type="reseller", customer=f.CustomerFactory(account_name="res-frozen", frozen=True)
    )
    client = as_user(admin_member)
    body = client.get(LIST, {"type": "reseller"}).content
    assert b"res-frozen" in body and b"ref-1" not in body
    body = client.get(LIST, {"status": "frozen"}).content
    assert b"res-frozen" in body and b"ref-1" not in body
    body = client.get(LIST, {"status": "normal"}).content
    assert b"ref-1" in body and b"res-frozen" not in body


def test_a_bad_filter_value_is_a_message_not_an_error(as_user, admin_member, customer):
    response = as_user(admin_member).get(LIST, {"type": "nonsense", "sort": "drop table"})
    assert response.status_code == 200
    assert b"Some filters are not valid" in response.content


def _walk(client, params):
    seen, cursor, pages = [], None, 0
    while True:
        response = client.get(LIST, {**params, **({"cursor": cursor} if cursor else {})})
        page = response.context["page"]
        seen += [a.customer.account_name for a in page.rows]
        pages += 1
        if not page.next_cursor:
            return seen, pages
        cursor = page.next_cursor


@pytest.mark.parametrize("sort", ["newest", "oldest", "account"])
def test_keyset_pages_cover_every_customer_once(as_user, admin_member, partner, settings, sort):
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "PAGE_SIZE": 7}
    for _ in range(30):
        f.AssociationFactory(partner=partner)
    seen, pages = _walk(as_user(admin_member), {"sort": sort})
    assert len(seen) == 30 and len(set(seen)) == 30
    assert pages == 5
    if sort == "account":
        assert seen == sorted(seen)


def test_previous_page_returns_the_same_rows(as_user, admin_member, partner, settings):
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "PAGE_SIZE": 5}
    for _ in range(12):
        f.AssociationFactory(partner=partner)
    client = as_user(admin_member)
    first = client.get(LIST).context["page"]
    second = client.get(LIST, {"cursor": first.next_cursor}).context["page"]
    back = client.get(LIST, {"cursor": second.prev_cursor}).context["page"]
    assert [a.pk for a in back.rows] == [a.pk for a in first.rows]


def test_a_forged_cursor_shows_the_first_page_with_a_message(as_user, admin_member, customer):
    response = as_user(admin_member).get(LIST, {"cursor": "eyJ2IjpbMV0sImQiOiJuZXh0In0:forged:sig"})
    assert response.status_code == 200
    assert b"no longer valid" in response.content
    huge = as_user(admin_member).get(LIST, {"cursor": "x" * 5000})
    assert huge.status_code == 200


def test_the_count_is_an_estimate_past_the_limit(as_user, admin_member, partner, settings):
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "EXACT_COUNT_LIMIT": 5}
    for _ in range(8):
        f.AssociationFactory(partner=partner)
    response = as_user(admin_member).get(LIST)
    assert response.context["total_is_estimate"] is True
    assert b"About" in response.content


@pytest.mark.parametrize("rows", [10, 100])
def test_the_list_query_count_does_not_grow_with_rows(
    as_user, admin_member, partner, rows, django_assert_max_num_queries
):
    manager = f.MemberFactory(partner=partner, member_name="m", roles=["customer_manager"])
    for i in range(rows):
        f.AssociationFactory(partner=partner, customer=f.CustomerFactory(manager=manager if i % 2 else None))
    client = as_user(admin_member)
    client.get(LIST)  # warm the session
    # session, user with partner, roles with permissions, managers filter, count, rows
    with django_assert_max_num_queries(6):
        response = client.get(LIST)
    assert len(response.context["page"].rows) == min(rows, 50)


class TestDistributorTabs:
    @pytest.fixture
    def data(self, distributor, reseller):
        f.AssociationFactory(partner=distributor, customer=f.CustomerFactory(account_name="dist-own"))
        f.AssociationFactory(partner=reseller, customer=f.CustomerFactory(account_name="res-cust"))

    def test_my_customers_tab_shows_only_its_own(self, as_user, dist_admin, data):
        body = as_user(dist_admin).get(LIST).content.decode()
        assert "dist-own" in body and "res-cust" not in body
        assert "Resellers&#x27; customers" in body or "Resellers' customers" in body

    def test_resellers_tab_shows_reseller_customers_read_only(self, as_user, dist_admin, data):
        body = as_user(dist_admin).get(LIST, {"tab": "resellers"}).content.decode()
        assert "res-cust" in body and "dist-own" not in body
        assert "Reseller R" in body
        # No Operation menu on a reseller's customer (a random member name may contain "More").
        assert "More actions for" not in body and "/switch/" not in body and "/funds/" not in body
        assert not re.search(r'href="/customers/\d+/"', body)

    def test_resellers_tab_searches_by_reseller_name(self, as_user, dist_admin, data):
        client = as_user(dist_admin)
        assert b"res-cust" in client.get(LIST, {"tab": "resellers", "q": "Reseller R"}).content

    def test_a_non_distributor_has_no_resellers_tab(self, as_user, admin_member, customer):
        response = as_user(admin_member).get(LIST, {"tab": "resellers"})
        assert response.context["tab"] == "mine"
        assert b"cust-one" in response.content


class TestCustomerManagerScope:
    def test_a_manager_sees_only_managed_customers(self, as_user, partner, manager):
        mine = f.CustomerFactory(account_name="mine", manager=manager)
        theirs = f.CustomerFactory(account_name="theirs")
        for c in (mine, theirs):
            f.AssociationFactory(partner=partner, customer=c)
        client = as_user(manager)
        body = client.get(LIST).content
        assert b"mine" in body and b"theirs" not in body
        assert client.get(detail(theirs)).status_code == 404
        assert client.get(detail(mine)).status_code == 200

    def test_a_supervisor_sees_the_customers_of_supervised_managers(self, as_user, partner, manager, supervisor):
        managed = f.CustomerFactory(account_name="managed", manager=manager)
        other = f.CustomerFactory(account_name="unmanaged")
        for c in (managed, other):
            f.AssociationFactory(partner=partner, customer=c)
        body = as_user(supervisor).get(LIST).content
        assert b"managed" in body and b"unmanaged" not in body


def test_rows_escape_what_customers_typed(as_user, admin_member, partner):
    evil = f.CustomerWithUserFactory(
        account_name="evil-1", name='<script>alert("x")</script> & Co', email="a&b@example.com"
    )
    f.AssociationFactory(partner=partner, customer=evil, type=Association.Type.RESELLER)
    for page in (LIST, detail(evil)):
        body = as_user(admin_member).get(page).content.decode()
        assert '<script>alert("x")</script>' not in body
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in body
    body = as_user(admin_member).get(LIST).content.decode()
    assert "a&amp;b@example.com" in body
    assert 'aria-label="More actions for &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co"' in body


def test_rows_show_status_badges_and_a_menu_per_association_type(as_user, admin_member, partner, viewer):
    frozen = f.CustomerWithUserFactory(account_name="frozen-1", frozen=True, arrears=5)
    f.AssociationFactory(partner=partner, customer=frozen, type=Association.Type.REFERRAL)
    body = as_user(admin_member).get(LIST).content.decode()
    row = body[body.index("frozen-1"):]
    row = row[: row.index("</tr>")]
    assert "Frozen" in row and "In arrears" in row and "Normal" not in row
    assert "Switch association type" in row and "Allocate funds" not in row  # referral: no funds
    assert f'href="{detail(frozen)}"' in row
    # A read-only member sees no actions it may not take.
    body = as_user(viewer).get(LIST).content.decode()
    row = body[body.index("frozen-1"):]
    row = row[: row.index("</tr>")]
    assert "Switch association type" not in row and "Unbind" not in row


@pytest.mark.postgres
def test_an_estimate_is_reused_for_the_same_list_but_an_exact_count_never_is(
    partner, settings, django_assert_num_queries
):
    from partnercenter.pagination import bounded_count

    for _ in range(8):
        f.AssociationFactory(partner=partner)
    qs = Association.objects.filter(partner=partner)
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "EXACT_COUNT_LIMIT": 5}
    with django_assert_num_queries(1):
        total, estimated = bounded_count(qs)
    assert estimated
    with django_assert_num_queries(0):
        assert bounded_count(qs) == (total, True)
    # Another list (another partner's) is counted for itself.
    with django_assert_num_queries(1):
        bounded_count(Association.objects.filter(partner_id=partner.pk + 1))
    # Exact counts are never reused: the list below the limit is counted every time.
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "EXACT_COUNT_LIMIT": 100}
    for expected in (8, 9):
        with django_assert_num_queries(1):
            assert bounded_count(qs) == (expected, False)
        f.AssociationFactory(partner=partner)
    # Turned off, estimates are counted every time too.
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "EXACT_COUNT_LIMIT": 5, "ESTIMATE_CACHE_SECONDS": 0}
    with django_assert_num_queries(1):
        assert bounded_count(qs)[1]


def test_a_process_keeps_its_copy_of_an_estimate_until_the_shared_one_ends(monkeypatch, settings):
    from django.core.cache import cache

    from partnercenter import pagination

    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "ESTIMATE_CACHE_SECONDS": 60}
    now = [1_000_000.0]
    monkeypatch.setattr(pagination.time, "time", lambda: now[0])
    pagination._keep_estimate("pc:estimate:a", 120_000)
    assert cache.get("pc:estimate:a") == (120_000, 1_000_060.0)  # the moment travels with the value
    cache.delete("pc:estimate:a")
    assert pagination._kept_estimate("pc:estimate:a") == 120_000  # this process's copy, no round trip
    # Another process's estimate is read from the shared cache, and kept only as long as it is.
    cache.set("pc:estimate:b", (7_000, 1_000_030.0))
    assert pagination._kept_estimate("pc:estimate:b") == 7_000
    cache.set("pc:estimate:b", (8_000, 1_000_030.0))
    assert pagination._kept_estimate("pc:estimate:b") == 7_000
    now[0] = 1_000_031.0
    assert pagination._kept_estimate("pc:estimate:b") is None  # past its moment: counted again
    assert pagination._kept_estimate("pc:estimate:a") == 120_000
    now[0] = 1_000_061.0
    assert pagination._kept_estimate("pc:estimate:a") is None


def test_the_estimates_key_is_not_the_one_an_older_version_reads_a_bare_count_from():
    """A process of the version before (a rolling deploy) reads ``pc:estimate:<digest>`` as a
    count: it must never find an (estimate, moment) pair there."""
    from partnercenter import pagination

    key = pagination._estimate_key("default", "SELECT 1", 10_000, 1000)
    assert key.startswith("pc:estimate:moment:")
