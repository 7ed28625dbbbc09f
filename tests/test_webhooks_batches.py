"""Webhook deliveries sent in batches (``deliver_webhooks``, webhooks.delivery.deliver_due): a task
claims up to a batch of due rows with ``SELECT … FOR UPDATE SKIP LOCKED``, so workers running
at once on PostgreSQL take disjoint rows and never send one row twice; a full batch leaves a
task for the rest; outcomes and backoff are those of one row at a time."""
import threading
from collections import Counter

import pytest
from django.db import connection, transaction
from django_tasks_db.models import DBTaskResult

from audit.events import Event
from audit.services import record
from tests.races import run_at_once
from tests.webhook_receiver import Receiver
from webhooks import services
from webhooks.delivery import deliver_due
from webhooks.models import Delivery

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def write_events(partner, customer, n):
    with transaction.atomic():
        for i in range(n):
            record(event=Event.CUSTOMER_FACTS_UPDATED, partner=partner, customer=customer, after={"n": i})


def drain(limit):
    """A worker's pass: batches until nothing is due; the rows each batch claimed."""
    claimed = 0
    while (result := deliver_due(limit=limit)) != "nothing due":
        claimed += sum(int(part.split()[0]) for part in result.split(", "))
    return claimed


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_never_send_one_delivery_twice(settings, admin_member, partner, customer):
    settings.TASKS = DATABASE_TASKS
    with Receiver(delay=0.003) as receiver:
        endpoint, _secret = services.endpoint_create(actor=admin_member, url=receiver.url)
        write_events(partner, customer, 300)
        deliveries = Delivery.objects.filter(endpoint=endpoint)
        expected = set(deliveries.values_list("event_id", flat=True))
        first, second = run_at_once(lambda: drain(10), lambda: drain(10))
        arrived = Counter(receiver.ids())
    assert not isinstance(first, Exception) and not isinstance(second, Exception), (first, second)
    assert first > 0 and second > 0, "both workers took part"
    assert first + second == len(expected) == 301
    assert set(arrived) == expected and max(arrived.values()) == 1  # each row sent once
    assert set(deliveries.values_list("status", "attempts")) == {("delivered", 1)}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_rows_another_worker_is_claiming_are_skipped_not_waited_for(settings, admin_member, partner, customer):
    settings.TASKS = DATABASE_TASKS
    with Receiver() as receiver:
        endpoint, _secret = services.endpoint_create(actor=admin_member, url=receiver.url)
        write_events(partner, customer, 30)
        deliveries = Delivery.objects.filter(endpoint=endpoint)
        locked_ids = list(deliveries.order_by("due_at", "pk").values_list("pk", flat=True)[:10])
        locked, release = threading.Event(), threading.Event()

        def other_worker_claiming():
            try:
                with transaction.atomic():
                    list(Delivery.objects.select_for_update().filter(pk__in=locked_ids))
                    locked.set()
                    release.wait(30)
            finally:
                connection.close()

        holder = threading.Thread(target=other_worker_claiming)
        holder.start()
        try:
            assert locked.wait(30)
            result = deliver_due(limit=100)  # returns at once: the locked rows are passed over
        finally:
            release.set()
            holder.join(30)
        assert result == "21 delivered"
        assert set(deliveries.filter(pk__in=locked_ids).values_list("status", flat=True)) == {"queued"}
        assert not deliveries.exclude(pk__in=locked_ids).exclude(status="delivered").exists()
        locked_events = set(deliveries.filter(pk__in=locked_ids).values_list("event_id", flat=True))
        assert not locked_events & set(receiver.ids())
        assert deliver_due(limit=100) == "10 delivered"
        assert len(receiver.ids()) == len(set(receiver.ids())) == 31


@pytest.mark.django_db
def test_a_full_batch_leaves_a_task_for_the_rest_and_a_failure_keeps_its_backoff(
        settings, admin_member, partner, customer):
    settings.TASKS = DATABASE_TASKS
    with Receiver() as up:
        endpoint, _secret = services.endpoint_create(actor=admin_member, url=up.url)
        write_events(partner, customer, 6)  # 7 due with the endpoint's own webhook.created
        ready = DBTaskResult.objects.filter(status="READY", task_path__endswith="deliver_webhooks").count()
        assert deliver_due(limit=4) == "4 delivered"
        assert DBTaskResult.objects.filter(status="READY", task_path__endswith="deliver_webhooks").count() == ready + 1
        assert deliver_due(limit=4) == "3 delivered"  # not full: nothing more enqueued
        assert DBTaskResult.objects.filter(status="READY", task_path__endswith="deliver_webhooks").count() == ready + 1
    down = Receiver(status=503)
    services.endpoint_update(actor=admin_member, endpoint=endpoint, url=down.url, description="", all_events=True,
                             events=[])
    with down:
        assert deliver_due(limit=10) == "1 retrying"  # the endpoint's webhook.updated
    delivery = Delivery.objects.get(endpoint=endpoint, event="webhook.updated")
    assert delivery.status == "queued" and delivery.attempts == 1 and delivery.status_code == 503
    assert delivery.due_at > delivery.last_attempt_at  # not due again before its backoff
    assert deliver_due(limit=10) == "nothing due"
    endpoint.refresh_from_db()
    assert endpoint.failing_since is not None


@pytest.mark.django_db
def test_a_batch_stops_sending_after_its_time_and_puts_the_rest_back_unattempted(
        settings, monkeypatch, admin_member, partner, customer):
    settings.TASKS = DATABASE_TASKS
    monkeypatch.setattr("webhooks.delivery.BATCH_SECONDS", 0.2)
    with Receiver(delay=0.3) as slow:
        endpoint, _secret = services.endpoint_create(actor=admin_member, url=slow.url)
        write_events(partner, customer, 4)
        ready = DBTaskResult.objects.filter(status="READY", task_path__endswith="deliver_webhooks").count()
        assert deliver_due(limit=10) == "1 delivered, 4 put back"
        deliveries = Delivery.objects.filter(endpoint=endpoint)
        assert deliveries.filter(status="delivered", attempts=1).count() == 1
        assert set(deliveries.exclude(status="delivered").values_list("status", "attempts", "claimed_at")) == {
            ("queued", 0, None)}
        # A task is waiting for them.
        assert DBTaskResult.objects.filter(status="READY", task_path__endswith="deliver_webhooks").count() == ready + 1
        assert len(slow.ids()) == 1
