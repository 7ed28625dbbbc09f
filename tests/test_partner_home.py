"""The partner home at ``/``: to-dos, figures and charts, each scoped and permission-gated."""
import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.checks import add_months
from customers.models import Association, LedgerEntry
from organization.models import Role
from partnercenter import factories as f

HOME = reverse("home")


def body(client) -> str:
    response = client.get(HOME)
    assert response.status_code == 200
    return response.content.decode()


def associated(partner, name, **customer):
    c = f.CustomerFactory(name=name, **customer)
    return f.AssociationFactory(partner=partner, customer=c)


@pytest.fixture
def managed(partner, manager):
    """One customer the manager looks after and one they do not."""
    mine = associated(partner, "Managed Co", manager=manager)
    theirs = associated(partner, "Unmanaged Co")
    return mine, theirs


def test_a_member_lands_on_the_home_rather_than_the_customer_list(as_user, admin_member):
    response = as_user(admin_member).get(HOME)
    assert response.status_code == 200
    assert response.templates[0].name == "home/partner_home.html"


def test_an_anonymous_visitor_is_sent_to_sign_in_and_a_customer_to_the_account_center(client, customer_user):
    assert client.get(HOME)["Location"] == reverse("login")
    client.force_login(customer_user)
    assert client.get(HOME)["Location"] == reverse("account_center:home")


def test_a_dissociation_awaiting_approval_shows_its_automatic_approval_date_and_links_to_the_request(
    as_user, admin_member, partner
):
    association = associated(partner, "Leaving Ltd")
    deadline = timezone.now() + timedelta(days=2, hours=1)
    request = f.AssociationRequestFactory(association=association, kind="dissociation", deadline=deadline)
    html = body(as_user(admin_member))
    assert "Leaving Ltd asks to dissociate" in html
    assert "Approved automatically on" in html
    assert "2\xa0days" in html
    assert reverse("customers:request_detail", args=[request.pk]) in html


def test_the_most_urgent_item_comes_first(as_user, admin_member, partner):
    now = timezone.now()
    later = associated(partner, "Later Ltd")
    sooner = associated(partner, "Sooner Ltd")
    f.AssociationRequestFactory(association=later, kind="dissociation", deadline=now + timedelta(days=5))
    f.AssociationRequestFactory(association=sooner, kind="unbind", deadline=now + timedelta(days=1))
    html = body(as_user(admin_member))
    assert html.index("Sooner Ltd") < html.index("Later Ltd")


def test_a_request_past_its_deadline_or_of_another_partner_is_not_listed(as_user, admin_member, partner, other_partner):
    gone = associated(partner, "Overdue Ltd")
    f.AssociationRequestFactory(association=gone, kind="dissociation", deadline=timezone.now() - timedelta(minutes=1))
    f.AssociationRequestFactory(association=associated(other_partner, "Elsewhere Ltd"), kind="dissociation")
    html = body(as_user(admin_member))
    assert "Overdue Ltd" not in html
    assert "Elsewhere Ltd" not in html


def test_a_customer_manager_sees_only_their_customers_items(as_user, manager, managed):
    mine, theirs = managed
    for association in managed:
        f.AssociationRequestFactory(association=association, kind="dissociation")
    html = body(as_user(manager))
    assert "Managed Co asks to dissociate" in html
    assert "Unmanaged Co" not in html


def test_a_supervisor_sees_their_managers_customers(as_user, supervisor, managed):
    f.AssociationRequestFactory(association=managed[0], kind="unbind")
    assert "waiting for Managed Co to answer" in body(as_user(supervisor))


def test_dissociations_need_the_handling_permission(as_user, viewer, partner):
    association = associated(partner, "Leaving Ltd")
    f.AssociationRequestFactory(association=association, kind="dissociation")
    f.AssociationRequestFactory(association=associated(partner, "Asked Ltd"), kind="switch")
    html = body(as_user(viewer))
    assert "Leaving Ltd" not in html
    assert "waiting for Asked Ltd to answer" in html


def test_an_invitation_expiring_within_48_hours_links_to_resending_it(as_user, admin_member, partner, manager):
    now = timezone.now()
    soon = f.InvitationFactory(partner=partner, email="soon@example.com", expires_at=now + timedelta(hours=30))
    f.InvitationFactory(partner=partner, email="later@example.com", expires_at=now + timedelta(hours=50))
    f.InvitationFactory(partner=partner, email="gone@example.com", expires_at=now - timedelta(hours=1))
    html = body(as_user(admin_member))
    assert "The invitation to soon@example.com is about to expire" in html
    assert reverse("customers:invitation_resend", args=[soon.pk]) in html
    assert "later@example.com" not in html
    assert "gone@example.com" not in html
    # A customer manager sees the invitations they sent only (as on the invitation list).
    assert "soon@example.com" not in body(as_user(manager))


def test_invitations_need_the_invite_permission(as_user, viewer, partner):
    f.InvitationFactory(partner=partner, email="soon@example.com", expires_at=timezone.now() + timedelta(hours=3))
    assert "soon@example.com" not in body(as_user(viewer))


def test_customers_in_arrears_or_frozen_are_counted_and_link_to_the_filtered_list(as_user, admin_member, partner):
    associated(partner, "Owes Ltd", arrears=Decimal("5.00"))
    associated(partner, "Owes Too", arrears=Decimal("1.00"))
    associated(partner, "Ice Ltd", frozen=True)
    html = body(as_user(admin_member))
    assert "2 customers are in arrears" in html
    assert "1 customer account is frozen" in html
    assert f'{reverse("customers:list")}?status=arrears' in html
    assert f'{reverse("customers:list")}?status=frozen' in html


def test_a_manager_counts_only_their_customers_in_arrears(as_user, manager, partner):
    associated(partner, "Mine", arrears=Decimal("5.00"), manager=manager)
    associated(partner, "Not mine", arrears=Decimal("5.00"))
    assert "1 customer is in arrears" in body(as_user(manager))


def test_a_cooldown_ending_this_week_is_listed_and_one_ending_later_is_not(as_user, admin_member, partner, settings):
    now = timezone.now()
    months = settings.PARTNER_CENTER["COOLDOWN_MONTHS"]
    soon = associated(partner, "Soon Free Ltd")
    f.AssociationRequestFactory(
        association=soon, kind="unbind", status="rejected", created_at=add_months(now + timedelta(days=3), -months)
    )
    later = associated(partner, "Later Free Ltd")
    f.AssociationRequestFactory(
        association=later, kind="unbind", status="rejected", created_at=add_months(now + timedelta(days=20), -months)
    )
    # A newer submission on the same association moves its cooldown out of the week.
    again = associated(partner, "Again Ltd")
    f.AssociationRequestFactory(
        association=again, kind="switch", status="rejected", created_at=add_months(now + timedelta(days=2), -months)
    )
    f.AssociationRequestFactory(
        association=again, kind="unbind", status="rejected", created_at=now - timedelta(days=10)
    )
    html = body(as_user(admin_member))
    assert "The cooldown on Soon Free Ltd ends soon" in html
    assert reverse("customers:detail", args=[soon.customer_id]) in html
    assert "Later Free Ltd" not in html
    assert "Again Ltd" not in html


def test_a_member_without_permissions_sees_an_empty_home(as_user, member_without_permission, partner):
    associated(partner, "Owes Ltd", arrears=Decimal("5.00"))
    html = body(as_user(member_without_permission))
    assert "Nothing waits for you right now." in html
    assert "Customers by association type" not in html
    assert "home-chart-data" not in html


def test_figures_count_customers_by_type_and_link_to_the_filtered_list(as_user, admin_member, partner, other_partner):
    associated(partner, "A")
    associated(partner, "B")
    f.AssociationFactory(partner=partner, type=Association.Type.RESELLER)
    f.AssociationFactory(partner=other_partner, type=Association.Type.RESELLER)
    response = as_user(admin_member).get(HOME)
    figures = response.context["customer_figures"]
    assert (figures["referral"].count, figures["reseller"].count) == (2, 1)
    html = response.content.decode()
    assert f'{reverse("customers:list")}?type=referral' in html


def test_balance_and_quota_show_to_who_may_move_money_or_issue_vouchers(as_user, admin_member, viewer, partner):
    partner.balance = Decimal("1234567.50")
    partner.voucher_quota = Decimal("2500.00")
    partner.save(update_fields=["balance", "voucher_quota"])
    html = body(as_user(admin_member))
    assert "USD 1,234,567.50" in html
    assert "USD 2,500.00" in html
    assert "1,234,567.50" not in body(as_user(viewer))


def test_the_records_figure_needs_the_records_permission(as_user, admin_member, partner, member_without_permission):
    f.OperationRecordFactory(partner=partner)
    response = as_user(admin_member).get(HOME)
    assert response.context["records_figure"].count == 1
    assert reverse("audit:list") in response.content.decode()
    assert "records_figure" not in as_user(member_without_permission).get(HOME).context


def chart(response, chart_id):
    found = re.search(r'<script id="home-chart-data" type="application/json">(.*?)</script>', response.content.decode())
    data = json.loads(found.group(1))
    return next(c for c in data if c["id"] == chart_id)


def test_the_association_chart_counts_new_and_ended_associations_per_month(as_user, admin_member, partner):
    now = timezone.now()
    associated(partner, "New")
    f.AssociationFactory(
        partner=partner, started_at=now - timedelta(days=800), status="ended", ended_at=now, end_reason="unbind"
    )
    associated(partner, "Old").__class__.objects.filter(customer__name="Old").update(
        started_at=now - timedelta(days=800)
    )
    data = chart(as_user(admin_member).get(HOME), "chart-associations")
    assert len(data["labels"]) == 12
    new, ended = (s["values"] for s in data["series"])
    assert sum(new) == 1  # "New" started 200 days ago; the others more than a year ago
    assert ended[-1] == 1 and sum(ended) == 1  # one ended this month


def test_the_association_chart_includes_a_start_of_this_month(as_user, admin_member, partner):
    f.AssociationFactory(partner=partner, started_at=timezone.now())
    new = chart(as_user(admin_member).get(HOME), "chart-associations")["series"][0]["values"]
    assert new[-1] == 1


def test_the_funds_chart_sums_allocations_and_recoveries_and_needs_a_funds_permission(
    as_user, admin_member, viewer, partner, customer
):
    for kind, amount in [("allocation", "100.00"), ("allocation", "50.50"), ("recovery", "20.00"), ("top_up", "9.00")]:
        LedgerEntry.objects.create(
            partner=partner, customer=customer, kind=kind, amount=Decimal(amount), partner_balance_after=0
        )
    response = as_user(admin_member).get(HOME)
    allocated, recovered = (s["values"] for s in chart(response, "chart-funds")["series"])
    assert Decimal(allocated[-1]) == Decimal("150.50")
    assert Decimal(recovered[-1]) == Decimal("20.00")
    assert "USD 150.50" in response.content.decode()  # the table alternative
    assert "chart-funds" not in body(as_user(viewer))


def test_the_requests_chart_counts_outcomes_with_overdue_pending_as_expired(as_user, admin_member, partner):
    a = associated(partner, "R")
    f.AssociationRequestFactory(association=a, status="rejected")
    f.AssociationRequestFactory(association=a, status="pending", deadline=timezone.now() - timedelta(hours=1))
    data = chart(as_user(admin_member).get(HOME), "chart-requests")
    counts = dict(zip(data["labels"], data["series"][0]["values"], strict=True))
    assert counts["Rejected"] == 1
    assert counts["Expired"] == 1
    assert counts["Pending"] == 0


def test_a_manager_charts_only_their_customers(as_user, manager, managed):
    for association in managed:
        f.AssociationRequestFactory(association=association, status="rejected")
    data = chart(as_user(manager).get(HOME), "chart-requests")
    assert sum(data["series"][0]["values"]) == 1


def test_each_chart_has_a_table_alternative_and_is_drawn_by_a_static_script(as_user, admin_member, partner):
    f.AssociationFactory(partner=partner, started_at=timezone.now())
    html = body(as_user(admin_member))
    assert 'id="chart-associations-table"' in html
    assert "vendor/chart.js/chart.umd.min.js" in html
    assert "js/home-charts.js" in html
    assert "<script>" not in html  # data goes through json_script, drawing through the static file


def test_the_chart_library_is_served_from_the_npm_package(client, db):
    from django.contrib.staticfiles import finders

    path = finders.find("vendor/chart.js/chart.umd.min.js")
    assert path and "node_modules" in path


def test_the_home_renders_in_chinese(as_user, admin_member, partner):
    associated(partner, "Owes Ltd", arrears=Decimal("5.00"))
    client = as_user(admin_member)
    client.cookies["django_language"] = "zh-hans"
    html = client.get(HOME, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "待办" in html
    assert "欠费" in html


def test_the_home_page_stays_within_its_query_budget(as_user, admin_member, partner, django_assert_max_num_queries):
    now = timezone.now()
    for i in range(5):
        a = associated(partner, f"C{i}", arrears=Decimal("1.00") if i % 2 else Decimal("0"))
        f.AssociationRequestFactory(association=a, kind="dissociation" if i % 2 else "unbind")
        f.InvitationFactory(partner=partner, expires_at=now + timedelta(hours=i + 1))
    client = as_user(admin_member)
    client.get(HOME)
    # Session, user, roles; two to-do lists; four customer figures; cooldowns; the records
    # figure; one read of the day counts and one of the overdue requests (UTC: no cut day).
    with django_assert_max_num_queries(13):
        assert client.get(HOME).status_code == 200


def test_a_custom_role_sees_only_the_blocks_it_grants(as_user, partner):
    from django.contrib.auth.models import Permission

    role = Role.objects.create(partner=partner, name="Inviter")
    role.permissions.set([Permission.objects.get(codename="invite_customers")])
    member = f.MemberFactory(partner=partner, member_name="inviter", roles=[role])
    f.InvitationFactory(partner=partner, email="soon@example.com", created_by=member,
                        expires_at=timezone.now() + timedelta(hours=3))
    associated(partner, "Owes Ltd", arrears=Decimal("5.00"))
    html = body(as_user(member))
    assert "soon@example.com" in html
    assert "in arrears" not in html


def test_the_charts_follow_a_change_at_once(as_user, admin_member, partner):
    client = as_user(admin_member)

    def new_this_month():
        charts = {c["id"]: c for c in client.get(HOME).context["chart_data"]}
        return charts["chart-associations"]["series"][0]["values"][-1]

    before = new_this_month()
    f.AssociationFactory(partner=partner, started_at=timezone.now())
    assert new_this_month() == before + 1
