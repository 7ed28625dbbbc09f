"""CSV export of the operation records: exactly the filtered rows, streamed in constant memory."""
import csv
import io
import tracemalloc
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit import export
from audit.models import OperationRecord
from organization.models import Role
from partnercenter import factories as f

LIST = reverse("audit:list")
EXPORT = reverse("audit:export")


def csv_rows(response) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def exported_ids(response) -> list[int]:
    return [int(row[0]) for row in csv_rows(response)[1:]]


def listed_ids(client, params) -> list[int]:
    seen, cursor = [], None
    while True:
        page = client.get(LIST, {**params, **({"cursor": cursor} if cursor else {})}).context["page"]
        seen += [r.pk for r in page.rows]
        if not (cursor := page.next_cursor):
            return seen


@pytest.fixture
def data(partner, customer, other_partner):
    other_customer = f.CustomerFactory(account_name="cust-two", name="Second Customer")
    for day in range(1, 21):
        f.OperationRecordFactory(
            partner=partner,
            customer=customer if day % 2 else other_customer,
            event="funds.allocated" if day % 3 else "association.switched",
            actor_kind="member" if day % 4 else "system",
            actor_name="Alice" if day % 5 else "Bob",
            created_at=datetime(2026, 4, day, 8, tzinfo=UTC),
        )
    f.OperationRecordFactory.create_batch(3, partner=other_partner, customer=customer)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"event": "association.switched"},
        {"category": "funds", "actor": "alice"},
        {"customer": "cust-two", "actor_kind": "member"},
        {"date_from": "2026-04-05", "date_to": "2026-04-12"},
        {"event": "funds.allocated", "customer": "Customer One", "date_to": "2026-04-15"},
    ],
)
def test_the_export_holds_exactly_the_filtered_rows(as_user, admin_member, data, settings, params):
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "PAGE_SIZE": 3}
    client = as_user(admin_member)
    wanted = listed_ids(client, params)
    assert wanted, "the filter should select something"
    assert exported_ids(client.get(EXPORT, params)) == wanted


def test_the_export_leaves_out_other_partners_records(as_user, admin_member, partner, data):
    ids = exported_ids(as_user(admin_member).get(EXPORT))
    assert len(ids) == 20
    assert set(OperationRecord.objects.filter(pk__in=ids).values_list("partner", flat=True)) == {partner.pk}


def test_a_customer_manager_exports_only_managed_customers_records(as_user, partner, manager, data):
    mine = f.CustomerFactory(account_name="mine", manager=manager)
    rec = f.OperationRecordFactory(partner=partner, customer=mine)
    Role.objects.get(builtin="customer_manager").permissions.add(
        Permission.objects.get(content_type__app_label="audit", codename="export_records")
    )
    assert exported_ids(as_user(manager).get(EXPORT)) == [rec.pk]


def test_a_distributor_exports_each_tab(as_user, db):
    distributor = f.DistributorFactory(account_name="dist")
    reseller = f.ResellerFactory(distributor=distributor)
    own = f.OperationRecordFactory(partner=distributor)
    resold = f.OperationRecordFactory(partner=reseller)
    client = as_user(f.MemberFactory(partner=distributor, member_name="admin"))
    assert exported_ids(client.get(EXPORT)) == [own.pk]
    assert exported_ids(client.get(EXPORT, {"tab": "resellers"})) == [resold.pk]


def test_every_column_is_written(as_user, admin_member, partner, customer):
    rec = f.OperationRecordFactory(
        partner=partner, customer=customer, event="association.switched", actor_name="Bob Boss",
        actor_kind="member", ip="203.0.113.9", request_id="req-0123456789", reason="Cheaper invoicing",
        before={"type": "referral"}, after={"type": "reseller"}, created_at=datetime(2026, 4, 1, 8, 30, 5, tzinfo=UTC),
    )
    header, row = csv_rows(as_user(admin_member).get(EXPORT))
    assert header[:4] == ["Record", "When (UTC)", "Event code", "Event"]
    values = dict(zip(header, row, strict=True))
    assert values == {
        "Record": str(rec.pk), "When (UTC)": "2026-04-01 08:30:05", "Event code": "association.switched",
        "Event": "Association type switched", "Category": "Association", "Partner account": "acme",
        "Partner": "Acme Cloud", "Customer account": "cust-one", "Customer": "Customer One", "Association": "",
        "Request": "", "Actor": "Bob Boss", "Actor kind": "Member", "IP address": "203.0.113.9",
        "Request id": "req-0123456789", "Reason": "Cheaper invoicing",
        "Before": values["Before"], "After": values["After"],
    }
    assert values["Before"].replace(" ", "") == '{"type":"referral"}'
    assert values["After"].replace(" ", "") == '{"type":"reseller"}'


def test_the_export_speaks_the_users_language(as_user, admin_member, partner):
    f.OperationRecordFactory(partner=partner, event="funds.allocated")
    header, row = csv_rows(as_user(admin_member).get(EXPORT, HTTP_ACCEPT_LANGUAGE="zh-hans"))
    assert "事件" in header
    assert "已拨款" in row


def test_cells_that_a_spreadsheet_would_run_as_formulas_are_neutralised(as_user, admin_member, partner):
    f.OperationRecordFactory(partner=partner, actor_name="@SUM(A1)", reason='=HYPERLINK("http://evil")')
    header, row = csv_rows(as_user(admin_member).get(EXPORT))
    values = dict(zip(header, row, strict=True))
    assert values["Reason"] == "'=HYPERLINK(\"http://evil\")"
    assert values["Actor"] == "'@SUM(A1)"


def test_it_is_a_download_that_is_not_cached(as_user, admin_member, partner):
    f.OperationRecordFactory(partner=partner)
    response = as_user(admin_member).get(EXPORT)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="operation-records-')
    assert "no-store" in response["Cache-Control"]


def test_it_requires_the_export_permission(as_user, viewer, partner):
    f.OperationRecordFactory(partner=partner)
    client = as_user(viewer)
    assert client.get(EXPORT).status_code == 403
    assert b"Export CSV" not in client.get(LIST).content


def test_the_export_button_carries_the_filters(as_user, admin_member, partner):
    body = as_user(admin_member).get(LIST, {"event": "funds.allocated", "cursor": "ignored"}).content.decode()
    assert f'href="{EXPORT}?event=funds.allocated"' in body


def test_it_sends_anonymous_visitors_to_sign_in(client, db):
    response = client.get(EXPORT)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    "params",
    [{"date_from": "2026-04-31"}, {"date_from": "2026-04-10", "date_to": "2026-04-01"}, {"event": "nope"}],
)
def test_bad_filters_export_nothing_and_say_why(as_user, admin_member, data, params):
    client = as_user(admin_member)
    response = client.get(EXPORT, params)
    assert response.status_code == 302
    assert response["Location"].startswith(LIST + "?")
    page = client.get(response["Location"])
    assert b"Nothing was exported" in page.content
    assert b"Some filters are not valid" in page.content


def _export_peak_memory(client) -> tuple[int, int]:
    """Rows exported and the peak of memory allocated while streaming them."""
    response = client.get(EXPORT)
    tracemalloc.start()
    try:
        lines = sum(chunk.count(b"\n") for chunk in response.streaming_content)
        return lines - 1, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_stays_flat_however_many_rows(as_user, admin_member, partner, monkeypatch):
    monkeypatch.setattr(export, "FETCH_ROWS", 50)
    monkeypatch.setattr(export, "CHUNK_ROWS", 50)
    client = as_user(admin_member)
    reason = "a reason long enough to weigh something in memory " * 4
    f.OperationRecordFactory.create_batch(200, partner=partner, reason=reason)
    rows_small, peak_small = _export_peak_memory(client)
    f.OperationRecordFactory.create_batch(1800, partner=partner, reason=reason)
    rows_large, peak_large = _export_peak_memory(client)
    assert (rows_small, rows_large) == (200, 2000)
    # Ten times the rows: holding them all would need about ten times the memory.
    assert peak_large < 2 * peak_small


def test_the_query_count_does_not_grow_with_rows(as_user, admin_member, partner, monkeypatch):
    monkeypatch.setattr(export, "FETCH_ROWS", 20)
    client = as_user(admin_member)
    client.get(LIST)

    def count_queries():
        with CaptureQueriesContext(connection) as ctx:
            b"".join(client.get(EXPORT).streaming_content)
        return len([q for q in ctx.captured_queries if "audit_operationrecord" in q["sql"]])

    f.OperationRecordFactory.create_batch(5, partner=partner)
    few = count_queries()
    f.OperationRecordFactory.create_batch(100, partner=partner)
    assert count_queries() == few
