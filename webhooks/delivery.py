"""The worker's side: the bodies of the ``deliver_webhooks`` task (the due deliveries, a batch
per task, ``deliver_due``) and of the ``deliver_webhook`` task (one named delivery), retries with
exponential backoff, the endpoint disabled after failing for ``WEBHOOK_RETRY_HOURS``, and the sweep's cases
(deliveries lost with a worker, log rows past ``WEBHOOK_LOG_DAYS``).

Each attempt signs the stored body afresh (Standard Webhooks: ``webhook-id`` is the delivery's
``event_id``, the same on every attempt; ``webhook-timestamp`` is the attempt's time)."""
import logging
import time
from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from django_tasks_db.utils import exclusive_transaction
from standardwebhooks.webhooks import Webhook

from notifications.queue import enqueue_with_change, in_database, stale_before
from webhooks import net
from webhooks.fanout import trigger
from webhooks.models import Delivery, Endpoint

logger = logging.getLogger(__name__)
PURGE_BATCH = 5000
# Deliveries one deliver_webhooks task claims and sends, and for how long at most it sends.
BATCH = 20
BATCH_SECONDS = 10.0
# A delivery due this soon is sent now (a retry task may start a moment early).
CLAIM_AHEAD = timedelta(seconds=1)


def signed_headers(secret: str, event_id: str, timestamp, body: str) -> dict[str, str]:
    return _headers(Webhook(secret), event_id, timestamp, body)


def _headers(signer: Webhook, event_id: str, timestamp, body: str) -> dict[str, str]:
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signer.sign(msg_id=event_id, timestamp=timestamp, data=body),
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
    """The ``deliver_webhook`` task: one named delivery, if it is queued and due."""
    now = timezone.now()
    claimed = Delivery.objects.filter(
        pk=delivery_id, status=Delivery.Status.QUEUED, due_at__lte=now + CLAIM_AHEAD
    ).update(status=Delivery.Status.SENDING, claimed_at=now, last_attempt_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return "not due or already handled"
    delivery = Delivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None:
        return "endpoint deleted"
    [result] = _send([delivery]).values()
    return result


def deliver_due(limit: int = BATCH) -> str:
    """The ``deliver_webhooks`` task: claim up to ``limit`` due deliveries (oldest first) and send
    them. The claim is one transaction: ``SELECT … FOR UPDATE SKIP LOCKED`` (rows another worker
    is claiming are passed over, so two workers never take one row) and one update to
    ``sending``. A full batch enqueues the next task in the same transaction, before sending,
    so another worker takes the rest meanwhile."""
    from notifications.tasks import deliver_webhooks

    now = timezone.now()
    with exclusive_transaction():  # on SQLite, where FOR UPDATE does nothing: one claimer at a time
        rows = list(
            Delivery.objects.select_for_update(skip_locked=True, of=("self",)).select_related("endpoint")
            .filter(status=Delivery.Status.QUEUED, due_at__lte=now + CLAIM_AHEAD)
            .order_by("due_at", "pk")[:limit]
        )
        if not rows:
            return "nothing due"
        Delivery.objects.filter(pk__in=[row.pk for row in rows]).update(
            status=Delivery.Status.SENDING, claimed_at=now, last_attempt_at=now, attempts=F("attempts") + 1)
        if len(rows) == limit:
            enqueue_with_change(deliver_webhooks)
    for row in rows:
        row.status, row.claimed_at, row.last_attempt_at, row.attempts = (
            Delivery.Status.SENDING, now, now, row.attempts + 1)
    results = _send(rows, until=time.monotonic() + batch_seconds())
    counts = Counter(results.values())
    return ", ".join(f"{n} {result}" for result, n in sorted(counts.items()))


def batch_seconds() -> float:
    """How long one task goes on sending its batch: well inside the time after which the sweep
    takes a claim for lost (``TASK_STALE_SECONDS``)."""
    return min(BATCH_SECONDS, settings.PARTNER_CENTER["TASK_STALE_SECONDS"] / 2)


def _send(rows: list[Delivery], until: float | None = None) -> dict[int, str]:
    """Send claimed deliveries, each endpoint's in their order, and write the outcomes. Each
    endpoint is read once (with the rows) and its host resolved and checked once per batch; the
    connection goes to the checked address (webhooks.net). The successes are written in one
    statement; then the endpoint's state follows the outcomes in order, as if each had been
    written alone (a success clears ``failing_since``; each failure is retried or ends, and may
    disable the endpoint, in ``_failed``). Rows left when ``until`` passes are put back, not
    attempted, with a task for them."""
    results: dict[int, str] = {}
    by_endpoint: dict[int, list[Delivery]] = {}
    for row in rows:
        by_endpoint.setdefault(row.endpoint_id, []).append(row)
    sent: list[tuple[Delivery, net.Outcome]] = []
    left: list[Delivery] = []
    for endpoint_rows in by_endpoint.values():
        endpoint = endpoint_rows[0].endpoint
        if not endpoint.is_active:
            Delivery.objects.filter(pk__in=[row.pk for row in endpoint_rows]).update(
                status=Delivery.Status.FAILED, claimed_at=None, due_at=None, last_error="The endpoint is disabled.")
            results.update((row.pk, "endpoint disabled") for row in endpoint_rows)
            continue
        try:
            target, refused = net.resolve(endpoint.url), None
        except net.UnsafeURL as exc:
            target, refused = None, net.Outcome(None, 0, str(exc))
        signer = Webhook(endpoint.secret)
        for row in endpoint_rows:
            row.endpoint = endpoint  # one object per endpoint: its state is followed below
            if until is not None and time.monotonic() > until:
                left.append(row)
            elif target is None:
                sent.append((row, refused))
            else:
                headers = _headers(signer, row.event_id, timezone.now(), row.body)
                sent.append((row, net.post(target, row.body.encode(), headers)))
    delivered = [row for row, outcome in sent if outcome.ok]
    for row, outcome in sent:
        if outcome.ok:
            row.status, row.delivered_at, row.claimed_at, row.due_at = (
                Delivery.Status.DELIVERED, timezone.now(), None, None)
            row.status_code, row.latency_ms, row.last_error = outcome.status_code, outcome.latency_ms, ""
    if delivered:
        # One statement; the values that differ by row as CASE over the rows having each value
        # (cheaper to build than bulk_update's CASE per row and field, the hot spot under cProfile).
        Delivery.objects.filter(pk__in=[row.pk for row in delivered]).update(
            status=Delivery.Status.DELIVERED, claimed_at=None, due_at=None, last_error="",
            **{name: _by_value(delivered, name) for name in ("delivered_at", "status_code", "latency_ms")})
    for row, outcome in sent:
        if not outcome.ok:
            results[row.pk] = _failed(row, outcome)
            continue
        results[row.pk] = "delivered"
        if row.endpoint.failing_since is not None:
            Endpoint.objects.filter(pk=row.endpoint_id).update(failing_since=None)
            row.endpoint.failing_since = None
    if left:
        from notifications.tasks import deliver_webhooks

        with transaction.atomic():
            Delivery.objects.filter(pk__in=[row.pk for row in left], status=Delivery.Status.SENDING).update(
                status=Delivery.Status.QUEUED, claimed_at=None, attempts=F("attempts") - 1)
            enqueue_with_change(deliver_webhooks)
        results.update((row.pk, "put back") for row in left)
    return results


def _by_value(rows: list[Delivery], name: str) -> Case:
    field = Delivery._meta.get_field(name)
    groups: dict = {}
    for row in rows:
        groups.setdefault(getattr(row, name), []).append(row.pk)
    return Case(*[When(pk__in=pks, then=Value(value, output_field=field)) for value, pks in groups.items()],
                output_field=field)


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
    failing_since = delivery.endpoint.failing_since = delivery.endpoint.failing_since or now
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
        sending_waiting = _sending_waiting()
        rows = [row for row in rows if not (row.status == Delivery.Status.QUEUED and sending_waiting)
                and not _task_waiting(row)]
        for row in rows:
            Delivery.objects.filter(pk=row.pk).update(status=Delivery.Status.QUEUED, claimed_at=None, due_at=now)
            trigger(row)
    return len(rows)


def _sending_waiting() -> bool:
    """A ``deliver_webhooks`` task is waiting to run (database backend): it takes every due row,
    a batch at a time (a full batch enqueues the next), so a queued row needs no task of its own."""
    from django_tasks_db.models import DBTaskResult

    from notifications.tasks import deliver_webhooks

    if not in_database(deliver_webhooks):
        return False
    return DBTaskResult.objects.ready().filter(task_path=deliver_webhooks.module_path).exists()


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
