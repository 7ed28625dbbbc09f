"""The worker's side: the body of the ``deliver_webhook`` task, its retries with exponential
backoff, the endpoint disabled after failing for ``WEBHOOK_RETRY_HOURS``, and the sweep's cases
(deliveries lost with a worker, log rows past ``WEBHOOK_LOG_DAYS``).

Each attempt signs the stored body afresh (Standard Webhooks: ``webhook-id`` is the delivery's
``event_id``, the same on every attempt; ``webhook-timestamp`` is the attempt's time)."""
import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from notifications.queue import in_database, stale_before
from webhooks import net
from webhooks.fanout import trigger
from webhooks.models import Delivery, Endpoint

logger = logging.getLogger(__name__)
PURGE_BATCH = 5000


def signed_headers(secret: str, event_id: str, timestamp, body: str) -> dict[str, str]:
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id=event_id, timestamp=timestamp, data=body),
    }


def retry_delay(attempts: int) -> timedelta:
    """After the ``attempts``-th failed try: the first delay, doubled for each try since, at most
    ``WEBHOOK_RETRY_MAX_SECONDS``."""
    config = settings.PARTNER_CENTER
    first, most = config["WEBHOOK_RETRY_FIRST_SECONDS"], config["WEBHOOK_RETRY_MAX_SECONDS"]
    return timedelta(seconds=min(first * 2 ** min(max(attempts - 1, 0), 30), most))


def retry_window() -> timedelta:
    return timedelta(hours=settings.PARTNER_CENTER["WEBHOOK_RETRY_HOURS"])


def deliver(delivery_id: int) -> str:
    now = timezone.now()
    claimed = Delivery.objects.filter(
        pk=delivery_id, status=Delivery.Status.QUEUED, due_at__lte=now + timedelta(seconds=1)
    ).update(status=Delivery.Status.SENDING, claimed_at=now, last_attempt_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return "not due or already handled"
    delivery = Delivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None:
        return "endpoint deleted"
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.FAILED, claimed_at=None, due_at=None, last_error="The endpoint is disabled.")
        return "endpoint disabled"
    try:
        target = net.resolve(endpoint.url)
    except net.UnsafeURL as exc:
        outcome = net.Outcome(None, 0, str(exc))
    else:
        headers = signed_headers(endpoint.secret, delivery.event_id, timezone.now(), delivery.body)
        outcome = net.post(target, delivery.body.encode(), headers)
    if outcome.ok:
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.DELIVERED, delivered_at=timezone.now(), claimed_at=None, due_at=None,
            status_code=outcome.status_code, latency_ms=outcome.latency_ms, last_error="",
        )
        if endpoint.failing_since is not None:
            Endpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
        return "delivered"
    return _failed(delivery, outcome)


def _failed(delivery: Delivery, outcome: net.Outcome) -> str:
    now = timezone.now()
    deadline = delivery.retry_from + retry_window()
    fields = {"claimed_at": None, "status_code": outcome.status_code, "latency_ms": outcome.latency_ms,
              "last_error": outcome.error[:2000]}
    with transaction.atomic():
        if now >= deadline:
            Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.FAILED, due_at=None, **fields)
            result = "failed"
        else:
            # The last try falls on the deadline: retries span the whole window.
            due = min(now + retry_delay(delivery.attempts), deadline)
            Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.QUEUED, due_at=due, **fields)
            trigger(delivery, run_after=due)
            result = "retrying"
        Endpoint.objects.filter(pk=delivery.endpoint_id, failing_since__isnull=True).update(failing_since=now)
    failing_since = delivery.endpoint.failing_since or now
    if now - failing_since >= retry_window():
        # Its own transaction, which locks the partner row first (DEVELOPERS rule 7).
        from webhooks.services import endpoint_disable_after_failures

        endpoint_disable_after_failures(endpoint=delivery.endpoint)
    logger.warning("Webhook delivery %s (%s) to endpoint %s failed on attempt %s: %s %s", delivery.pk,
                   delivery.event, delivery.endpoint_id, delivery.attempts, outcome.status_code or "", outcome.error)
    return result


def requeue_lost_deliveries(now=None) -> int:
    """Deliveries whose trigger is gone (claimed by a worker that never finished, or queued and
    due for longer than ``TASK_STALE_SECONDS`` with no task waiting): queued again, due now."""
    now = now or timezone.now()
    cutoff = stale_before(now)
    with transaction.atomic():
        rows = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(Q(status=Delivery.Status.SENDING, claimed_at__lt=cutoff)
                    | Q(status=Delivery.Status.QUEUED, due_at__lt=cutoff))
            .order_by("due_at")[:1000]
        )
        rows = [row for row in rows if not _task_waiting(row)]
        for row in rows:
            Delivery.objects.filter(pk=row.pk).update(status=Delivery.Status.QUEUED, claimed_at=None, due_at=now)
            trigger(row)
    return len(rows)


def _task_waiting(delivery: Delivery) -> bool:
    from django_tasks_db.models import DBTaskResult

    from notifications.queue import TaskResultStatus
    from notifications.tasks import deliver_webhook

    if delivery.status != Delivery.Status.QUEUED or not delivery.task_id or not in_database(deliver_webhook):
        return False
    return DBTaskResult.objects.filter(pk=delivery.task_id, status=TaskResultStatus.READY).exists()


def purge_old_deliveries(now=None) -> int:
    """The delivery log keeps ``WEBHOOK_LOG_DAYS`` (at least 30): finished rows older go."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.PARTNER_CENTER["WEBHOOK_LOG_DAYS"])
    ids = list(
        Delivery.objects.filter(created_at__lt=cutoff, status__in=[Delivery.Status.DELIVERED, Delivery.Status.FAILED])
        .values_list("pk", flat=True)[:PURGE_BATCH]
    )
    if ids:
        Delivery.objects.filter(pk__in=ids).delete()
    return len(ids)
