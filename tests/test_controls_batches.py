"""Acting on many customers at once (issue 20, Build 3; SPEC R32)."""
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from api import services as api_services
from audit.models import OperationRecord
from customers.controls import batches
from customers.models import Association, Batch, BatchRow, Customer
from partnercenter import factories as f


@pytest.fixture
def customers(partner):
    """Three reseller customers, one referral customer, one reseller customer already frozen."""
    made = []
    for i in range(3):
        c = f.CustomerWithUserFactory(account_name=f"batch-res-{i}", name=f"Reseller Co {i}")
        f.AssociationFactory(partner=partner, customer=c, type=Association.Type.RESELLER)
        made.append(c)
    referral = f.CustomerWithUserFactory(account_name="batch-ref", name="Referral Co")
    f.AssociationFactory(partner=partner, customer=referral, type=Association.Type.REFERRAL)
    frozen = f.CustomerWithUserFactory(account_name="batch-frozen", name="Frozen Co", frozen=True,
                                       frozen_source="vendor")
    f.AssociationFactory(partner=partner, customer=frozen, type=Association.Type.RESELLER)
    return [*made, referral, frozen]


def ids(customers):
    return [c.pk for c in customers]


def test_the_preview_counts_what_will_change_and_why_the_rest_will_not_and_changes_nothing(admin_member, customers,
                                                                                          other_partner):
    foreign = f.CustomerWithUserFactory(account_name="batch-foreign")
    f.AssociationFactory(partner=other_partner, customer=foreign, type=Association.Type.RESELLER)
    preview = batches.batch_preview(actor=admin_member, action="freeze", customer_ids=[*ids(customers), foreign.pk],
                                    reason="batch")
    assert (preview.total, preview.changing, preview.unchanged) == (6, 3, 3)
    assert sorted(preview.reasons.values()) == [1, 1, 1]
    assert any("pay the vendor themselves" in r for r in preview.reasons)
    assert any("not one of yours" in r for r in preview.reasons)
    assert not OperationRecord.objects.exists() and not Customer.objects.filter(frozen_source="partner").exists()


def test_each_row_is_applied_on_its_own_and_the_result_lists_every_row(admin_member, customers):
    batch = batches.batch_create(actor=admin_member, action="freeze", customer_ids=ids(customers), reason="batch")
    assert batches.batch_run(batch_id=batch.pk) == 5
    batch.refresh_from_db()
    assert batch.status == Batch.Status.DONE
    outcomes = dict(BatchRow.objects.filter(batch=batch).values_list("customer__account_name", "outcome"))
    assert outcomes == {"batch-res-0": "changed", "batch-res-1": "changed", "batch-res-2": "changed",
                        "batch-ref": "refused", "batch-frozen": "refused"}
    assert OperationRecord.objects.filter(event="customer.frozen").count() == 3
    assert Customer.objects.filter(frozen_source="partner").count() == 3


def test_the_progress_counts_every_outcome_as_the_rows_say_read_with_the_batch_or_not(admin_member, customers,
                                                                                     as_user):
    """``progress`` counts the rows not changed and takes the changed ones as the rest of the
    total; read ``with_progress`` or on its own, it is what the rows say, part-way and done."""
    from collections import Counter

    from customers.controls.selectors import batch_for_member

    batch = batches.batch_create(actor=admin_member, action="freeze", customer_ids=ids(customers), reason="batch")
    first, second = BatchRow.objects.filter(batch=batch).order_by("id")[:2]
    BatchRow.objects.filter(pk=first.pk).update(outcome="changed")
    BatchRow.objects.filter(pk=second.pk).update(outcome="refused")
    for _ in range(2):
        rows = Counter(BatchRow.objects.filter(batch=batch).values_list("outcome", flat=True))
        expected = {"changed": rows["changed"], "refused": rows["refused"], "pending": rows["pending"],
                    "processed": rows["changed"] + rows["refused"],
                    "percent": (rows["changed"] + rows["refused"]) * 100 // 5}
        assert batches.progress(Batch.objects.get(pk=batch.pk)) == expected
        assert batches.progress(batch_for_member(admin_member, batch.pk, progress=True)) == expected
        body = as_user(admin_member).get(reverse("customers:batch_detail", args=[batch.pk])).content.decode()
        changed, refused, pending = expected["changed"], expected["refused"], expected["pending"]
        assert f"{changed} changed, {refused} not changed, {pending} pending." in body
        batches.batch_run(batch_id=batch.pk)
    assert expected["pending"] == 0 and expected["changed"] + expected["refused"] == 5


def test_the_portal_previews_then_applies_and_offers_the_result_as_csv(as_user, admin_member, customers):
    client = as_user(admin_member)
    body = {"action": "budget", "customers": ids(customers), "amount": "99.00", "reason": "batch"}
    page = client.post(reverse("customers:batch"), {**body, "step": "preview"})
    assert page.status_code == 200 and "4 will change." in page.content.decode()
    assert not OperationRecord.objects.exists()
    response = client.post(reverse("customers:batch"), {**body, "step": "apply"})
    batch = Batch.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("customers:batch_detail", args=[batch.pk])
    detail = client.get(response["Location"]).content.decode()
    assert "4 changed, 1 not changed, 0 pending." in detail
    csv = b"".join(client.get(reverse("customers:batch_csv", args=[batch.pk])).streaming_content).decode("utf-8-sig")
    lines = csv.strip().splitlines()
    assert len(lines) == 6 and any("batch-ref" in line and "Not changed" in line for line in lines)
    assert Customer.objects.filter(monthly_budget=Decimal("99.00")).count() == 4


def test_all_rows_matching_the_filter(as_user, admin_member, customers):
    client = as_user(admin_member)
    body = {"action": "freeze", "all_matching": "on", "query": "type=referral", "reason": "batch", "step": "preview"}
    page = client.post(reverse("customers:batch"), body).content.decode()
    assert "1 customer chosen." in page and "0 will change." in page


def test_a_large_batch_runs_in_the_background(admin_member, customers, monkeypatch,
                                              django_capture_on_commit_callbacks):
    monkeypatch.setattr(batches, "INLINE_ROWS", 2)
    with django_capture_on_commit_callbacks(execute=True):
        batch = batches.batch_create(actor=admin_member, action="freeze", customer_ids=ids(customers), reason="bg")
    batch.refresh_from_db()
    assert batch.status == Batch.Status.DONE  # the immediate backend of the tests ran the task
    assert OperationRecord.objects.filter(event="customer.frozen").count() == 3


def test_a_cancelled_batch_stops_and_resumes_without_applying_a_row_twice(admin_member, customers,
                                                                          django_capture_on_commit_callbacks):
    resellers = customers[:3]
    batch = batches.batch_create(actor=admin_member, action="freeze", customer_ids=ids(resellers), reason="stop")
    assert batches.batch_run(batch_id=batch.pk, limit=1) == 1
    batches.batch_cancel(actor=admin_member, batch=batch)
    assert batches.batch_run(batch_id=batch.pk) == 0  # a cancelled batch does nothing
    assert BatchRow.objects.filter(batch=batch, outcome="pending").count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        batches.batch_resume(actor=admin_member, batch=batch)
    batch.refresh_from_db()
    assert batch.status == Batch.Status.DONE
    assert OperationRecord.objects.filter(event="customer.frozen").count() == 3
    assert BatchRow.objects.filter(batch=batch, outcome="changed").count() == 3


def test_the_batch_page_cancels_and_resumes_with_a_message_and_refuses_with_one(
    as_user, admin_member, customers, django_capture_on_commit_callbacks
):
    client = as_user(admin_member)
    batch = batches.batch_create(actor=admin_member, action="freeze", customer_ids=ids(customers[:2]), reason="x")
    detail = reverse("customers:batch_detail", args=[batch.pk])

    def press(name):
        response = client.post(reverse(f"customers:batch_{name}", args=[batch.pk]), follow=True)
        assert response.redirect_chain == [(detail, 302)]
        return [(m.level_tag, str(m)) for m in response.context["messages"]]

    assert press("cancel") == [("success", "The batch is cancelled. Rows already changed stay changed.")]
    with django_capture_on_commit_callbacks(execute=True):
        assert press("resume") == [("success", "The batch goes on with the rows still pending.")]
    batch.refresh_from_db()
    assert batch.status == Batch.Status.DONE
    assert press("cancel") == [("error", "This batch has already finished.")]
    assert press("resume") == [("error", "This batch is running or has finished.")]


def test_a_lost_worker_is_resumed_and_each_row_still_applies_once(admin_member, customers):
    batch = batches.batch_create(actor=admin_member, action="freeze", customer_ids=ids(customers[:3]), reason="lost")
    batches.batch_run(batch_id=batch.pk, limit=2)
    # The worker died here: the batch says running, with no progress for a while.
    Batch.objects.filter(pk=batch.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=5))
    batch.refresh_from_db()
    assert batch.status == Batch.Status.RUNNING and batches.can_resume(batch)
    batches.batch_run(batch_id=batch.pk)  # what the re-queued task does
    assert OperationRecord.objects.filter(event="customer.frozen").count() == 3


def test_a_running_batch_with_recent_progress_cannot_be_resumed(admin_member, customers):
    batch = batches.batch_create(actor=admin_member, action="freeze", customer_ids=ids(customers[:2]), reason="x")
    batches.batch_run(batch_id=batch.pk, limit=1)
    batch.refresh_from_db()
    with pytest.raises(ValidationError):
        batches.batch_resume(actor=admin_member, batch=batch)


def test_a_batch_is_capped_by_the_setting(admin_member, customers, settings):
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "BATCH_MAX_ROWS": 2}
    with pytest.raises(ValidationError, match="at most 2"):
        batches.batch_create(actor=admin_member, action="freeze", customer_ids=ids(customers), reason="x")
    assert not Batch.objects.exists()


def test_a_member_without_the_actions_permission_gets_403(as_user, viewer, customers):
    response = as_user(viewer).post(reverse("customers:batch"), {"action": "freeze", "customers": ids(customers),
                                                                 "reason": "x", "step": "apply"})
    assert response.status_code == 403 and not Batch.objects.exists()


def test_batch_manager_assignment(admin_member, manager, customers):
    batch = batches.batch_create(actor=admin_member, action="manager", customer_ids=ids(customers), manager=manager)
    batches.batch_run(batch_id=batch.pk)
    assert Customer.objects.filter(manager=manager).count() == 5


def test_the_api_creates_reads_and_lists_a_batch(admin_member, customers, client):
    token = api_services.partner_token_create(member=admin_member)[1]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    body = json.dumps({"action": "budget", "customer_ids": ids(customers), "amount": "12.00"})
    preview = client.post("/api/v1/batches/preview", data=body, content_type="application/json", **headers).json()
    assert preview["changing"] == 4 and preview["unchanged"] == 1
    created = client.post("/api/v1/batches", data=body, content_type="application/json", **headers)
    assert created.status_code == 201 and created.json()["status"] == "done" and created.json()["changed"] == 4
    rows = client.get(f"/api/v1/batches/{created.json()['id']}/rows", **headers).json()["results"]
    assert len(rows) == 5 and {r["outcome"] for r in rows} == {"changed", "refused"}


def test_the_page_and_the_api_leave_a_batch_over_the_inline_rows_to_the_worker(
    as_user, admin_member, customers, monkeypatch, client
):
    monkeypatch.setattr(batches, "INLINE_ROWS", 2)
    body = {"action": "freeze", "customers": ids(customers), "reason": "bg", "step": "apply"}
    assert as_user(admin_member).post(reverse("customers:batch"), body).status_code == 302
    token = api_services.partner_token_create(member=admin_member)[1]
    created = client.post("/api/v1/batches", data=json.dumps({"action": "freeze", "customer_ids": ids(customers),
                                                              "reason": "bg"}),
                          content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert created.status_code == 201 and created.json()["status"] == "queued" and created.json()["pending"] == 5
    assert list(Batch.objects.values_list("status", flat=True)) == ["queued", "queued"]
    assert not OperationRecord.objects.filter(event="customer.frozen").exists()
    monkeypatch.setattr(batches, "INLINE_ROWS", 5)
    started = batches.batch_start(actor=admin_member, action="freeze", customer_ids=ids(customers), reason="now")
    started.refresh_from_db()
    assert started.status == Batch.Status.DONE


def test_an_id_that_names_no_customer_is_a_refused_row(admin_member, customers):
    batch = batches.batch_create(actor=admin_member, action="freeze", customer_ids=[customers[0].pk, 987654321],
                                 reason="x")
    batches.batch_run(batch_id=batch.pk)
    outcomes = dict(BatchRow.objects.filter(batch=batch).values_list("customer_id", "outcome"))
    assert outcomes == {customers[0].pk: "changed", 987654321: "refused"}


def _budget_batch_statements(admin_member, partner, rows: int, prefix: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    made = []
    for i in range(rows):
        c = f.CustomerFactory(account_name=f"{prefix}-{i}")
        f.AssociationFactory(partner=partner, customer=c, type=Association.Type.RESELLER)
        made.append(c)
    batch = batches.batch_create(actor=admin_member, action="budget", customer_ids=ids(made), amount=Decimal("75.00"))
    with CaptureQueriesContext(connection) as queries:
        assert batches.batch_run(batch_id=batch.pk) == rows
    assert BatchRow.objects.filter(batch=batch, outcome="changed").count() == rows
    return len(queries)


def test_a_budget_row_costs_a_bounded_number_of_statements(admin_member, partner):
    """Each row: its transaction (a savepoint here, inside the test's transaction) and its
    release, the row settled, the customer and association locked, the budget, its history
    row, its record and the record's endpoints read (webhooks fan-out): nine. Before the rows
    ran without the service's own savepoint it was eleven."""
    few = _budget_batch_statements(admin_member, partner, 2, "stmt-a")
    many = _budget_batch_statements(admin_member, partner, 12, "stmt-b")
    assert (many - few) / 10 <= 9, (few, many)


def test_a_refused_row_changes_nothing_and_is_written_on_its_own(admin_member, customers):
    """The refused row's transaction (settled as changed first) is rolled back whole; its
    refusal is then written, and no history or record of it remains."""
    from customers.models import BudgetChange

    Customer.objects.filter(pk=customers[0].pk).update(monthly_budget=Decimal("50.00"))
    batch = batches.batch_create(actor=admin_member, action="budget", customer_ids=ids(customers[:2]),
                                 amount=Decimal("50.00"))
    batches.batch_run(batch_id=batch.pk)
    rows = {r.customer_id: r for r in BatchRow.objects.filter(batch=batch)}
    assert rows[customers[0].pk].outcome == "refused" and "already" in rows[customers[0].pk].message
    assert rows[customers[1].pk].outcome == "changed"
    assert not BudgetChange.objects.filter(customer=customers[0]).exists()
    assert OperationRecord.objects.filter(event="customer.budget_set").count() == 1


def test_workers_are_ignored_inside_a_transaction(admin_member, customers):
    """Other connections would not see the uncommitted rows: inside a transaction (this
    test's) the rows run one after another on this connection, whatever ``workers`` says."""
    batch = batches.batch_create(actor=admin_member, action="freeze", customer_ids=ids(customers), reason="batch")
    assert batches.batch_run(batch_id=batch.pk, workers=4) == 5
    assert BatchRow.objects.filter(batch=batch, outcome="changed").count() == 3
