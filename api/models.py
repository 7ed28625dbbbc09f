"""API credentials and the registration counter.

Keys and tokens are long random strings; only their SHA-256 digests are stored, so a copy of
these tables gives nobody a credential. A fast digest is enough because the secrets carry
256 bits of randomness: there is nothing to guess, unlike a password."""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApiKey(models.Model):
    """A long-lived secret a member creates in the portal. It yields partner tokens that act
    as that member, so it stops working when it is revoked, when the member is disabled, or
    when the member loses the API permission."""

    partner = models.ForeignKey(
        "organization.Partner", verbose_name=_("partner"), on_delete=models.CASCADE, related_name="api_keys"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("key starts with"), max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        indexes = [models.Index(fields=["partner", "-id"], name="apikey_partner_id")]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class ApiToken(models.Model):
    """A short-lived bearer token. A partner token acts as its member for the partner; a
    customer token, obtained by exchanging a partner token, acts on one reseller customer
    with a role. Both are checked against their origin on every request (member active and
    permitted, key not revoked, association still active), so revoking any of those ends the
    token at once."""

    class Kind(models.TextChoices):
        PARTNER = "partner", _("Partner token")
        CUSTOMER = "customer", _("Customer token")

    class Role(models.TextChoices):
        TE_ADMIN = "te_admin", _("Full access (te_admin)")
        READONLY = "readonly", _("Read-only (readonly)")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    partner = models.ForeignKey(
        "organization.Partner", verbose_name=_("partner"), on_delete=models.CASCADE, related_name="+"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("member"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    api_key = models.ForeignKey(
        ApiKey, verbose_name=_("API key"), on_delete=models.CASCADE, null=True, blank=True, related_name="tokens"
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="partner") & Q(customer__isnull=True) & Q(role=""))
                | (Q(kind="customer") & Q(customer__isnull=False) & ~Q(role="")),
                name="apitoken_customer_token_has_customer_and_role",
                violation_error_message=_("A customer token names its customer and role; a partner token neither."),
            ),
        ]
        indexes = [models.Index(fields=["member", "expires_at"], name="apitoken_member_expiry")]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"


class RegistrationWindow(models.Model):
    """How many API registrations one client made in one period, for deployments without a
    shared cache (SPEC R29). Each process reads and increments the same row under a lock."""

    client = models.CharField(_("client"), max_length=64)
    window_start = models.DateTimeField(_("period start"))
    count = models.PositiveIntegerField(_("registrations"), default=0)

    class Meta:
        verbose_name = _("registration count")
        verbose_name_plural = _("registration counts")
        constraints = [
            models.UniqueConstraint(
                fields=["client", "window_start"],
                name="registrationwindow_one_per_client_and_period",
                violation_error_message=_("This client already has a count for this period."),
            ),
        ]
        indexes = [models.Index(fields=["window_start"], name="registrationwindow_start")]

    def __str__(self):
        return f"{self.client[:12]}… {self.window_start:%Y-%m-%d %H:%M}: {self.count}"


class IdempotencyKey(models.Model):
    """An ``Idempotency-Key`` a caller sent with a POST under API v1, and the answer it got.

    The row is inserted before the operation runs, so the unique constraint decides between
    two simultaneous requests with one key: the second is told the key is in use. A successful
    answer is kept and replayed for 24 hours; any other answer frees the key again, since a
    refused request changed nothing."""

    scope = models.CharField(_("caller"), max_length=100)
    key = models.CharField(_("key"), max_length=255)
    fingerprint = models.CharField(_("request digest"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("status"), null=True, blank=True)
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    body = models.BinaryField(_("answer"), blank=True, default=b"")
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "key"],
                name="idempotencykey_one_per_caller",
                violation_error_message=_("This caller already used this idempotency key."),
            ),
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotencykey_created")]

    def __str__(self):
        return f"{self.scope} {self.key[:16]}"
