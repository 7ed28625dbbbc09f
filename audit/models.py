"""The operation log: one immutable row per state change (SPEC R24–R25)."""
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.events import ActorKind, Category, Event


class AppendOnlyError(Exception):
    """Raised on any attempt to change or remove an operation record."""


class OperationRecordQuerySet(models.QuerySet):
    def update(self, *args, **kwargs):
        # Also stands in for update_or_create and bulk_update, which take positional arguments.
        raise AppendOnlyError("Operation records cannot be changed.")

    def delete(self):
        raise AppendOnlyError("Operation records cannot be deleted.")

    update_or_create = update
    bulk_update = update


class OperationRecord(models.Model):
    """What happened, to whom, by whom, from where, and the values before and after."""

    created_at = models.DateTimeField(_("when (UTC)"), default=timezone.now, editable=False)
    partner = models.ForeignKey(
        "organization.Partner", verbose_name=_("partner"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="operation_records",
    )
    association = models.ForeignKey(
        "customers.Association", verbose_name=_("association"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    association_request = models.ForeignKey(
        "customers.AssociationRequest", verbose_name=_("request"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    event = models.CharField(_("event"), max_length=60)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    actor_kind = models.CharField(_("actor kind"), max_length=10, choices=ActorKind.choices)
    actor_name = models.CharField(_("actor name"), max_length=150)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    before = models.JSONField(_("before"), default=dict, blank=True)
    after = models.JSONField(_("after"), default=dict, blank=True)

    objects = OperationRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("operation record")
        verbose_name_plural = _("operation records")
        default_permissions = ("view",)
        permissions = [("export_records", _("Can export operation records"))]
        indexes = [
            models.Index(fields=["partner", "-id"], name="oprec_partner_id"),
            models.Index(fields=["partner", "event", "-id"], name="oprec_partner_event_id"),
            models.Index(fields=["partner", "created_at", "id"], name="oprec_partner_created"),
            models.Index(fields=["customer", "-id"], name="oprec_customer_id"),
        ]

    def __str__(self):
        return f"{self.event_label} #{self.pk}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Operation records cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Operation records cannot be deleted.")

    @property
    def event_label(self) -> str:
        try:
            return str(Event(self.event).label)
        except ValueError:
            return self.event
