"""Every e-mail the portal sends goes through ``queue_email``: one way of sending.

A service renders the message in the recipient's language and calls ``queue_email`` inside its
transaction; the ``send_email`` task sends it later from a worker, with ``EMAIL_TIMEOUT``, and
tries again with exponential backoff for ``PC_EMAIL_RETRY_HOURS``; a final failure stays
``failed`` in the admin (Notifications → Outgoing e-mails).

The message is rendered when it is queued, not when it is sent: it says what was true at the
moment of the change (a request's state and deadline may have moved on by a retry hours
later), the rendering needs the service's objects and the active language, which a task's JSON
arguments cannot carry, and the operator sees in the admin exactly the text that was (or could
not be) delivered."""
import logging
import smtplib
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from notifications.models import OutgoingEmail
from notifications.queue import enqueue_with_change, in_database, stale_before

logger = logging.getLogger(__name__)

# Retries never wait longer than this between two tries.
MAX_RETRY_DELAY = timedelta(hours=1)


def queue_email(*, to: str, subject: str, body: str, kind: str) -> OutgoingEmail:
    """Queue one e-mail to ``to`` as part of the current transaction (a rolled-back change sends
    nothing). ``subject`` and ``body`` are already in the recipient's language."""
    domain = _message_domain()
    email = OutgoingEmail.objects.create(
        kind=kind,
        recipient=to,
        subject=" ".join(subject.split()),  # one line: a header
        body=body,
        message_id=f"<{uuid.uuid4().hex}@{domain}>",
    )
    _trigger(email)
    return email


def _message_domain() -> str:
    """The domain of the sender's address, for the Message-ID."""
    address = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)
    return address[1].rstrip(">").strip() if len(address) == 2 else "partnercenter.local"


def _trigger(email: OutgoingEmail, run_after=None) -> None:
    from notifications.tasks import send_email

    def remember(result):
        if in_database(send_email):
            OutgoingEmail.objects.filter(pk=email.pk).update(task_id=str(result.id))

    enqueue_with_change(send_email, email.pk, run_after=run_after, on_enqueued=remember)


def retry_delay(attempts: int) -> timedelta:
    """After the ``attempts``-th failed try: the first delay, doubled for each try since."""
    first = settings.PARTNER_CENTER["EMAIL_RETRY_FIRST_SECONDS"]
    return min(timedelta(seconds=first * 2 ** max(attempts - 1, 0)), MAX_RETRY_DELAY)


def _permanent(exc: Exception) -> bool:
    """The mail server refused for good (5xx): trying again cannot help."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(500 <= code < 600 for code, _message in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return 500 <= exc.smtp_code < 600
    return False


def deliver(email_id: int) -> str:
    """The body of the ``send_email`` task. Claims the e-mail (only one worker can), sends it
    and records the outcome. Returns what happened, for the task result."""
    now = timezone.now()
    claimed = OutgoingEmail.objects.filter(
        pk=email_id, status=OutgoingEmail.Status.QUEUED, due_at__lte=now + timedelta(seconds=1)
    ).update(status=OutgoingEmail.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return "not due or already handled"
    email = OutgoingEmail.objects.get(pk=email_id)
    message = EmailMessage(
        email.subject, email.body, None, [email.recipient], headers={"Message-ID": email.message_id}
    )
    try:
        # EMAIL_TIMEOUT bounds every wait on the mail server (SMTP backend reads the setting).
        with get_connection(fail_silently=False) as connection:
            connection.send_messages([message])
    except Exception as exc:  # noqa: BLE001 (every failure is recorded and retried or failed)
        return _failed(email, exc)
    OutgoingEmail.objects.filter(pk=email.pk).update(
        status=OutgoingEmail.Status.SENT, sent_at=timezone.now(), claimed_at=None, last_error=""
    )
    return "sent"


def _failed(email: OutgoingEmail, exc: Exception) -> str:
    now = timezone.now()
    error = f"{type(exc).__name__}: {exc}"[:2000]
    deadline = email.created_at + timedelta(hours=settings.PARTNER_CENTER["EMAIL_RETRY_HOURS"])
    delay = retry_delay(email.attempts)
    with transaction.atomic():
        if _permanent(exc) or now + delay > deadline:
            OutgoingEmail.objects.filter(pk=email.pk).update(
                status=OutgoingEmail.Status.FAILED, claimed_at=None, last_error=error
            )
            logger.error(
                "E-mail %s to %s failed for good after %s attempt(s): %s", email.pk, email.recipient,
                email.attempts, error,
            )
            return "failed"
        due = now + delay
        OutgoingEmail.objects.filter(pk=email.pk).update(
            status=OutgoingEmail.Status.QUEUED, claimed_at=None, due_at=due, last_error=error
        )
        _trigger(email, run_after=due)
    logger.warning("E-mail %s to %s not sent (attempt %s), next try at %s: %s", email.pk, email.recipient,
                   email.attempts, due.isoformat(), error)
    return "retrying"


def requeue_lost_emails(now=None) -> int:
    """E-mails whose trigger is gone: claimed by a worker that never finished (killed), or
    queued and due for longer than ``TASK_STALE_SECONDS`` without a task waiting for them
    (the enqueue after commit failed, or the backend cannot defer a retry). Each is queued
    again, due now; an e-mail whose database task is still waiting is left alone."""
    now = now or timezone.now()
    cutoff = stale_before(now)
    with transaction.atomic():
        rows = list(
            OutgoingEmail.objects.select_for_update(skip_locked=True)
            .filter(
                Q(status=OutgoingEmail.Status.SENDING, claimed_at__lt=cutoff)
                | Q(status=OutgoingEmail.Status.QUEUED, due_at__lt=cutoff)
            )
            .order_by("due_at")[:1000]
        )
        rows = [row for row in rows if not _task_waiting(row)]
        for row in rows:
            OutgoingEmail.objects.filter(pk=row.pk).update(
                status=OutgoingEmail.Status.QUEUED, claimed_at=None, due_at=now
            )
            _trigger(row)
    return len(rows)


def _task_waiting(email: OutgoingEmail) -> bool:
    """Database backend: the e-mail's task is still in the queue (the workers are behind)."""
    from django_tasks_db.models import DBTaskResult

    from notifications.queue import TaskResultStatus
    from notifications.tasks import send_email

    if email.status != OutgoingEmail.Status.QUEUED or not email.task_id or not in_database(send_email):
        return False
    return DBTaskResult.objects.filter(pk=email.task_id, status=TaskResultStatus.READY).exists()
