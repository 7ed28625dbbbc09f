"""Export of the customer list (SPEC R23): a streamed CSV of exactly the rows the list shows
for the same tab, search, filters and sort, for members with the export permission."""
import csv
import io

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from customers.models import Association
from organization.models import Role
from partnercenter import factories as f

LIST = reverse("customers:list")
EXPORT = reverse("customers:export")


def exported(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def listed(client, params) -> list[str]:
    """Every account name the list shows for ``params``, walking all its pages."""
    names, cursor = [], None
    while True:
        page = client.get(LIST, {**params, **({"cursor": cursor} if cursor else {})}).context["page"]
        names += [a.customer.account_name for a in page.rows]
        cursor = page.next_cursor
        if not cursor:
            return names


@pytest.fixture
def book(partner, manager):
    """A partner's customers of both types, some frozen or in arrears, some managed."""
    specs = [
        ("alpha", "referral", {}),
        ("bravo", "reseller", {"frozen": True}),
        ("charlie", "reseller", {"arrears": "12.50"}),
        ("delta", "referral", {"manager": manager}),
        ("echo", "reseller", {"manager": manager, "name": "Echo Search Target"}),
        ("foxtrot", "referral", {"name": "Search Target Foxtrot"}),
    ]
    for account, type_, facts in specs:
        facts.setdefault("name", account.title())
        f.AssociationFactory(partner=partner, type=type_, customer=f.CustomerFactory(account_name=account, **facts))


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"sort": "account"},
        {"sort": "oldest"},
        {"type": "reseller"},
        {"status": "frozen"},
        {"status": "normal", "sort": "account"},
        {"q": "search target"},
        {"q": "ECHO", "type": "reseller"},
        {"type": "nonsense"},
    ],
)
def test_the_export_is_exactly_the_filtered_list(as_user, admin_member, book, manager, settings, params):
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "PAGE_SIZE": 2}
    client = as_user(admin_member)
    rows = exported(client.get(EXPORT, params))
    assert [r[0] for r in rows[1:]] == listed(client, params)


def test_the_export_filters_by_manager_like_the_list(as_user, admin_member, book, manager):
    client = as_user(admin_member)
    rows = exported(client.get(EXPORT, {"manager": manager.pk}))
    assert [r[0] for r in rows[1:]] == ["echo", "delta"] == listed(client, {"manager": manager.pk})


def test_the_columns_are_the_lists_columns(as_user, admin_member, book, manager):
    rows = exported(as_user(admin_member).get(EXPORT, {"q": "echo"}))
    assert rows[0] == [
        "Account name", "Customer", "E-mail", "Association type", "Account status", "Customer manager",
        "Associated since (UTC)",
    ]
    assert rows[1][:6] == [
        "echo", "Echo Search Target", "echo@customer.example.com", "Reseller", "Normal", str(manager),
    ]


def test_the_list_links_the_export_of_the_same_filters(as_user, admin_member, book):
    body = as_user(admin_member).get(LIST, {"type": "reseller", "q": "e"}).content.decode()
    assert f'href="{EXPORT}?type=reseller&amp;q=e"' in body


def test_it_needs_the_export_permission(as_user, viewer, book):
    client = as_user(viewer)
    assert client.get(EXPORT).status_code == 403
    assert EXPORT not in client.get(LIST).content.decode()


def test_cells_that_a_spreadsheet_would_run_are_neutralised(as_user, admin_member, partner):
    f.AssociationFactory(partner=partner, customer=f.CustomerFactory(account_name="evil", name="=HYPERLINK(1)"))
    rows = exported(as_user(admin_member).get(EXPORT))
    assert rows[1][1] == "'=HYPERLINK(1)"


def test_the_header_follows_the_language(as_user, admin_member, book):
    client = as_user(admin_member)
    rows = exported(client.get(EXPORT, HTTP_ACCEPT_LANGUAGE="zh-hans"))
    assert rows[0][0] == "账号名"
    assert rows[1][3] in {"代售", "顾问销售"}


def test_a_customer_manager_allowed_to_export_gets_only_their_customers(as_user, partner, manager, book):
    Role.objects.get(builtin="customer_manager").permissions.add(
        Permission.objects.get(content_type__app_label="customers", codename="export_customers")
    )
    rows = exported(as_user(manager).get(EXPORT))
    assert sorted(r[0] for r in rows[1:]) == ["delta", "echo"]


def test_a_distributor_exports_its_resellers_customers_with_the_reseller(as_user, db):
    distributor = f.DistributorFactory(account_name="dist")
    reseller = f.ResellerFactory(account_name="res", name="Reseller R", distributor=distributor)
    f.AssociationFactory(partner=distributor, customer=f.CustomerFactory(account_name="dist-own"))
    f.AssociationFactory(partner=reseller, customer=f.CustomerFactory(account_name="res-cust"))
    client = as_user(f.MemberFactory(partner=distributor, member_name="admin"))
    mine = exported(client.get(EXPORT))
    assert [r[0] for r in mine[1:]] == ["dist-own"] and "Reseller" not in mine[0]
    theirs = exported(client.get(EXPORT, {"tab": "resellers"}))
    assert theirs[0][3] == "Reseller"
    assert theirs[1][0] == "res-cust" and theirs[1][3] == "Reseller R"


def test_another_partners_customers_never_appear(as_user, admin_member, book, other_partner):
    f.AssociationFactory(partner=other_partner, customer=f.CustomerFactory(account_name="foreign"))
    rows = exported(as_user(admin_member).get(EXPORT, {"q": "foreign"}))
    assert rows[1:] == []


@pytest.mark.parametrize("rows", [10, 200])
def test_the_query_count_does_not_grow_with_rows(as_user, admin_member, partner, rows, django_assert_max_num_queries):
    manager = f.MemberFactory(partner=partner, member_name="m", roles=["customer_manager"])
    for i in range(rows):
        f.AssociationFactory(
            partner=partner, type=Association.Type.RESELLER,
            customer=f.CustomerFactory(manager=manager if i % 2 else None),
        )
    client = as_user(admin_member)
    client.get(EXPORT)
    # session, user with partner, roles with permissions, managers filter, the export's
    # statement timeout, rows (one COPY)
    with django_assert_max_num_queries(6):
        assert len(exported(client.get(EXPORT))) == rows + 1


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20"])
def test_full_width_formula_starts_are_neutralised_as_the_ascii_ones(as_user, admin_member, partner, start):
    f.AssociationFactory(partner=partner, customer=f.CustomerFactory(account_name="evil", name=f"{start}SUM(A1)"))
    f.AssociationFactory(partner=partner, customer=f.CustomerFactory(account_name="fine", name="Ｆine＝ok"))
    rows = {row[0]: row for row in exported(as_user(admin_member).get(EXPORT))}
    assert rows["evil"][1] == f"'{start}SUM(A1)"
    assert rows["fine"][1] == "Ｆine＝ok"
