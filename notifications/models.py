"""The durable side of background work: what must happen survives in these rows, written in the
same transaction as the change that caused it; a task is only the trigger that does it."""
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutgoingEmail(models.Model):
    """One e-mail to one recipient, rendered in the recipient's language when it was queued.

    ``notifications.email.queue_email`` writes it and enqueues ``send_email``; the task claims
    it (``queued`` → ``sending``), sends it and marks it ``sent``, or puts it back to ``queued``
    with a later ``due_at`` (retry with backoff), or marks it ``failed`` once the retry window
    has passed. The operator reads them in the admin; nothing edits them there."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=40)
    recipient = models.EmailField(_("recipient"), max_length=254)
    subject = models.TextField(_("subject"))
    body = models.TextField(_("body"))
    # The same on every try, so a receiver can tell a repeat (sent, then the worker was lost
    # before it could record it) from a new message.
    message_id = models.CharField(_("message id"), max_length=255, unique=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("queued at"), default=timezone.now)
    due_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    task_id = models.CharField(_("task id"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The sweep's reads: queued or sending rows by time.
            models.Index(fields=["status", "due_at"], name="outgoing_email_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient}: {self.subject}"
