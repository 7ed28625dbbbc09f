"""Webhook endpoints a partner registers, and one delivery row per event and endpoint.

A delivery row is written in the transaction of the operation record it reports
(``webhooks.fanout.fan_out``, called by ``audit.services.record``), with the transaction's
``deliver_webhooks`` task, which claims due rows a batch at a time (``queued`` → ``sending``);
a retry or redelivery is a task naming its row, claimed like ``OutgoingEmail``."""
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Endpoint(models.Model):
    """A URL of a partner's system that receives the partner's events, signed with ``secret``
    (Standard Webhooks, ``whsec_`` + base64)."""

    partner = models.ForeignKey(
        "organization.Partner", verbose_name=_("partner"), on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    # Every event, including those later issues add to audit.events; else exactly ``events``.
    all_events = models.BooleanField(_("all events"), default=True)
    events = models.JSONField(_("events"), default=list, blank=True)
    secret = models.CharField(_("signing secret"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=200, blank=True)
    # Since when every delivery has failed (none succeeded since); cleared by a success.
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    secret_rotated_at = models.DateTimeField(_("secret rotated"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["-id"]
        permissions = [("manage_webhooks", _("Can manage webhooks"))]
        indexes = [models.Index(fields=["partner", "is_active"], name="webhook_endpoint_partner_idx")]

    def __str__(self) -> str:
        return self.url

    def wants(self, event: str) -> bool:
        return self.all_events or event in self.events


class Delivery(models.Model):
    """One event to one endpoint: its body (fixed when it was written, so every attempt sends
    the same bytes), its ``event_id`` (the ``webhook-id`` header, the same on every attempt and
    redelivery) and the outcome of the last attempt."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    endpoint = models.ForeignKey(
        Endpoint, verbose_name=_("endpoint"), on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.CharField(_("event id"), max_length=64)
    event = models.CharField(_("event"), max_length=60)
    record = models.ForeignKey(
        "audit.OperationRecord", verbose_name=_("operation record"), on_delete=models.PROTECT, null=True,
        blank=True, related_name="+",
    )
    body = models.TextField(_("body"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    due_at = models.DateTimeField(_("next attempt"), default=timezone.now, null=True, blank=True)
    # Retries go on for WEBHOOK_RETRY_HOURS from here (the event, or the last redelivery).
    retry_from = models.DateTimeField(_("retried since"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    latency_ms = models.PositiveIntegerField(_("latency (ms)"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    task_id = models.CharField(_("task id"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["endpoint", "-id"], name="webhook_delivery_endpoint_idx"),
            # The sweep's reads: queued or sending rows by time; old rows by age.
            models.Index(fields=["status", "due_at"], name="webhook_delivery_due_idx"),
            models.Index(fields=["created_at"], name="webhook_delivery_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id} ({self.status})"
