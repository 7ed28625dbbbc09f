"""Enqueueing with the change, and the sweep that recovers work lost with a worker.

The rule every background job keeps (e-mail now, webhook deliveries next): what must happen is a
row of its own (``OutgoingEmail``; a delivery row for webhooks), written in the service's
transaction; the task only names that row and does its work if it can claim it. So

- with the database backend (the default) the task row is written in the same transaction as the
  change: a rolled-back change enqueues nothing, a committed one is never without its task;
- with a backend outside the database (RQ on Redis) the task is enqueued when the transaction
  commits; if that enqueue fails, or a worker dies with the task, the row is still there and
  ``sweep()`` (run by ``manage.py run_scheduler``) enqueues it again;
- two triggers for one row are harmless: only one can claim it.
"""
import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

try:  # Django 6 has the Tasks API built in; the backport has the same names.
    from django.tasks import TaskResultStatus, task, task_backends  # type: ignore[import-not-found]
except ImportError:
    from django_tasks import TaskResultStatus, task, task_backends

from django_tasks_db import DatabaseBackend

__all__ = ["enqueue_with_change", "sweep", "task", "task_backends", "stale_before"]

logger = logging.getLogger(__name__)

SWEEP_BATCH = 1000


class WorkerLost(Exception):
    """Written on a database task result whose worker stopped before it finished."""


def stale_before(now=None):
    """Claims older than this are taken to be lost with their worker."""
    return (now or timezone.now()) - timedelta(seconds=settings.PARTNER_CENTER["TASK_STALE_SECONDS"])


def in_database(task_) -> bool:
    return isinstance(task_.get_backend(), DatabaseBackend)


def enqueue_with_change(task_, *args, run_after=None, on_enqueued=None):
    """Enqueue ``task_(*args)`` as part of the current transaction.

    On the database backend the task row is inserted now, inside the transaction (it commits or
    rolls back with the change), and its result is returned; so is it outside a transaction, on
    any backend. Elsewhere the task is enqueued once the transaction commits (``robust``: a queue
    that is down is logged; the sweep recovers the work from its row) and ``None`` is returned.
    ``on_enqueued(result)`` is called with the result either way. A backend that cannot defer
    (``immediate``) is not given ``run_after`` tasks: the sweep enqueues those when due."""
    if run_after is not None:
        if not task_.get_backend().supports_defer:
            return None
        task_ = task_.using(run_after=run_after)
    if in_database(task_) or not transaction.get_connection().in_atomic_block:
        result = task_.enqueue(*args)
        if on_enqueued:
            on_enqueued(result)
        return result

    def enqueue():
        result = task_.enqueue(*args)
        if on_enqueued:
            on_enqueued(result)

    transaction.on_commit(enqueue, robust=True)
    return None


def fail_lost_task_results(now=None) -> int:
    """Database backend: a task left ``RUNNING`` by a worker that was killed stays so forever
    (django-tasks-db has no lease). Mark those older than ``TASK_STALE_SECONDS`` failed with
    ``WorkerLost``, so the admin tells the truth; their work is re-queued from its own row."""
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    return DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING, started_at__lt=stale_before(now)
    ).update(
        status=TaskResultStatus.FAILED,
        finished_at=now,
        exception_class_path=f"{WorkerLost.__module__}.{WorkerLost.__qualname__}",
        traceback=(
            "The worker that claimed this task stopped before it finished "
            f"(no result after {settings.PARTNER_CENTER['TASK_STALE_SECONDS']} s). "
            "Its work was queued again by the sweep.\n"
        ),
    )


def sweep(now=None) -> dict:
    """Recover lost work; safe to run at any time, anywhere, twice. Returns counts."""
    from customers.controls.batches import resume_stale_batches
    from notifications.email import requeue_lost_emails
    from webhooks.delivery import purge_old_deliveries, requeue_lost_deliveries

    now = now or timezone.now()
    lost_results = fail_lost_task_results(now)
    emails = requeue_lost_emails(now)
    deliveries = requeue_lost_deliveries(now)
    purged = purge_old_deliveries(now)
    # A batch whose worker was lost mid-run is queued again; it goes on with its pending rows.
    resumed = resume_stale_batches()
    if lost_results or emails or deliveries or resumed:
        logger.warning("Sweep: %s lost task result(s) marked failed, %s e-mail(s), %s webhook delivery(ies) "
                       "and %s batch(es) queued again", lost_results, emails, deliveries, resumed)
    return {"lost_task_results": lost_results, "requeued_emails": emails, "requeued_deliveries": deliveries,
            "purged_deliveries": purged, "resumed_batches": resumed}
