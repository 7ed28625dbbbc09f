"""Customers' cloud accounts, their associations with partners, and what hangs off those.

Money is Decimal with two places everywhere; balances are guarded by CHECK constraints so no
code path can take one below zero.
"""
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.models import AppendOnlyError
from organization.models import Partner

MONEY = {"max_digits": 14, "decimal_places": 2}


class FreezeSource(models.TextChoices):
    NONE = "", _("Not frozen")
    PARTNER = "partner", _("Partner")
    VENDOR = "vendor", _("Vendor")


class Customer(models.Model):
    """A customer's cloud account with every fact the account check reads (SPEC §3.3)."""

    class EnterpriseRole(models.TextChoices):
        NONE = "none", _("Not in an enterprise")
        MASTER = "master", _("Enterprise master account")
        SUB = "sub", _("Enterprise sub-account")

    account_name = models.CharField(_("account name"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"))
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sign-in user"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="customer",
    )
    registered_at = models.DateTimeField(_("registered"), default=timezone.now)
    has_consumption = models.BooleanField(_("has consumption"), default=False)
    enterprise_role = models.CharField(
        _("enterprise role"), max_length=10, choices=EnterpriseRole.choices, default=EnterpriseRole.NONE
    )
    enterprise_master = models.ForeignKey(
        "self",
        verbose_name=_("enterprise master account"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sub_accounts",
        limit_choices_to={"enterprise_role": EnterpriseRole.MASTER},
    )
    financially_hosted = models.BooleanField(
        _("financially hosted"), default=False, help_text=_("The enterprise master pays for this sub-account.")
    )
    arrears = models.DecimalField(_("arrears"), default=Decimal("0.00"), **MONEY)
    postpaid = models.BooleanField(_("postpaid billing enabled"), default=False)
    invoice_owed = models.BooleanField(_("invoice owed"), default=False)
    special_contract = models.BooleanField(_("effective special contract"), default=False)
    frozen = models.BooleanField(_("frozen"), default=False)
    # Who froze the account (issue 20): the vendor's operators or a partner, and when and why.
    # A partner lifts only a partner freeze (customers.controls.services). A frozen account
    # without a source was frozen by the vendor (rows written before this, or by hand).
    frozen_source = models.CharField(
        _("frozen by"), max_length=10, choices=FreezeSource.choices, blank=True, default="", db_default=""
    )
    frozen_by_partner = models.ForeignKey(
        Partner, verbose_name=_("frozen by partner"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    frozen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("frozen by user"), on_delete=models.SET_NULL, null=True,
        blank=True, related_name="+",
    )
    frozen_by_name = models.CharField(_("frozen by (name)"), max_length=150, blank=True, default="", db_default="")
    frozen_at = models.DateTimeField(_("frozen at"), null=True, blank=True)
    frozen_reason = models.CharField(_("freeze reason"), max_length=256, blank=True, default="", db_default="")
    # Monthly budget of a reseller customer and the month-to-date spend the vendor's billing
    # posts (issue 20). ``spend_month`` is the first day of the month ``month_spend`` counts, in
    # the customer's time zone; a posting in a later month starts from zero.
    monthly_budget = models.DecimalField(_("monthly budget"), null=True, blank=True, **MONEY)
    spend_month = models.DateField(_("spend month"), null=True, blank=True)
    month_spend = models.DecimalField(
        _("month-to-date spend"), default=Decimal("0.00"), db_default=Decimal("0.00"), **MONEY
    )
    budget_alert = models.PositiveSmallIntegerField(
        _("budget alert sent"), default=0, db_default=0,
        help_text=_("The highest share of the budget (80 or 100 %) the partner was told of this month."),
    )
    orders_awaiting_partner_payment = models.PositiveIntegerField(
        _("orders awaiting partner payment"), default=0
    )
    cash_balance = models.DecimalField(_("own cash balance"), default=Decimal("0.00"), **MONEY)
    cash_withdraw_only = models.BooleanField(
        _("own cash balance is withdraw-only"),
        default=False,
        help_text=_("Set when the customer switched to reseller: the prior cash can only be withdrawn."),
    )
    allocated_balance = models.DecimalField(_("partner-allocated balance"), default=Decimal("0.00"), **MONEY)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("customer manager"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="managed_customers",
        limit_choices_to={"kind": "member"},
    )

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        # The portal's permission catalogue for Sales › Customers (SPEC R19).
        permissions = [
            ("export_customers", _("Can export the customer list")),
            ("invite_customers", _("Can invite customers")),
            ("switch_association", _("Can switch the association type")),
            ("unbind_association", _("Can unbind customers")),
            ("handle_dissociation", _("Can handle dissociation requests")),
            ("allocate_funds", _("Can allocate funds")),
            ("recover_funds", _("Can recover funds")),
            ("issue_vouchers", _("Can issue vouchers")),
            ("freeze_customers", _("Can freeze and unfreeze customers")),
            ("manage_budgets", _("Can set monthly budgets")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(allocated_balance__gte=0),
                name="customer_allocated_balance_not_negative",
                violation_error_message=_("The allocated balance cannot go below zero."),
            ),
            models.CheckConstraint(
                condition=Q(cash_balance__gte=0),
                name="customer_cash_balance_not_negative",
                violation_error_message=_("The cash balance cannot go below zero."),
            ),
            models.CheckConstraint(
                condition=Q(arrears__gte=0),
                name="customer_arrears_not_negative",
                violation_error_message=_("Arrears cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(enterprise_role="sub", enterprise_master__isnull=False)
                | (~Q(enterprise_role="sub") & Q(enterprise_master__isnull=True)),
                name="customer_sub_account_has_master",
                violation_error_message=_("An enterprise sub-account needs its master account; others have none."),
            ),
            models.CheckConstraint(
                condition=Q(monthly_budget__isnull=True) | Q(monthly_budget__gt=0),
                name="customer_monthly_budget_positive",
                violation_error_message=_("A monthly budget must be greater than zero."),
            ),
            models.CheckConstraint(
                condition=Q(month_spend__gte=0),
                name="customer_month_spend_not_negative",
                violation_error_message=_("The month-to-date spend cannot be negative."),
            ),
        ]
        indexes = [
            # The customer list's rare account facts (issue 17): about one customer in a hundred
            # is frozen and three in a hundred owe money, so a partner's list filtered by either
            # starts from these few rows instead of reading its customers until it has a page.
            models.Index(fields=["id"], condition=Q(frozen=True), name="customer_frozen"),
            models.Index(fields=["id"], condition=Q(arrears__gt=0), name="customer_in_arrears"),
        ]

    def __str__(self):
        return f"{self.name} ({self.account_name})"

    @property
    def frozen_by_vendor(self) -> bool:
        return self.frozen and self.frozen_source != FreezeSource.PARTNER

    @property
    def in_arrears(self) -> bool:
        return self.arrears > 0


class ReservedInstance(models.Model):
    """Prepaid capacity a customer holds until it expires."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="reserved_instances"
    )
    resource = models.CharField(_("resource"), max_length=100)
    expires_at = models.DateTimeField(_("expires"))

    class Meta:
        verbose_name = _("reserved instance")
        verbose_name_plural = _("reserved instances")
        indexes = [models.Index(fields=["customer", "expires_at"], name="ri_customer_expiry")]

    def __str__(self):
        return self.resource


# The customer's words for what the partner portal calls by its trade names (issue 21): a customer
# reads how they are billed and what is asked of them, not "Reseller" or "Unbind".
CUSTOMER_TYPE_LABELS = {
    "referral": _("Billed by the vendor"),
    "reseller": _("Billed by your partner"),
}
CUSTOMER_KIND_LABELS = {
    "switch": _("Change how you are billed"),
    "unbind": _("End of the association, asked by your partner"),
    "dissociation": _("End of the association, asked by you"),
}


# Columns of Association the database keeps (triggers), which Association.save() never writes.
KEPT_BY_TRIGGERS = ("has_pending_request", "customer_frozen")


class Association(models.Model):
    """The link between a partner and a customer. At most one active per customer (R1); ended
    ones stay as history with how they began and ended."""

    class Type(models.TextChoices):
        REFERRAL = "referral", _("Referral")
        RESELLER = "reseller", _("Reseller")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        ENDED = "ended", _("Ended")

    class Origin(models.TextChoices):
        INVITATION = "invitation", _("Invitation")
        PUBLIC_LINK = "public_link", _("Public partner link")
        API = "api", _("API registration")
        OPERATOR = "operator", _("Set up by an operator")

    class EndReason(models.TextChoices):
        UNBIND = "unbind", _("Unbound by the partner")
        DISSOCIATION = "dissociation", _("Dissociated by the customer")
        DISSOCIATION_AUTO = "dissociation_auto", _("Dissociation approved automatically")
        OPERATOR = "operator", _("Ended by an operator")

    partner = models.ForeignKey(
        Partner, verbose_name=_("partner"), on_delete=models.PROTECT, related_name="associations"
    )
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="associations"
    )
    type = models.CharField(_("association type"), max_length=10, choices=Type.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    origin = models.CharField(_("began through"), max_length=20, choices=Origin.choices)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    end_reason = models.CharField(_("ended through"), max_length=20, choices=EndReason.choices, blank=True)
    # Whether a request on the association is pending, kept by the database itself (triggers
    # on the requests' table, customers migration 0010), never written by Django (see save()):
    # it lets the customer list's pending filter walk a partial index of the partner's
    # associations in its own order instead of probing every open request of the vendor.
    has_pending_request = models.BooleanField(default=False, db_default=False, editable=False)
    # The customer's ``frozen``, copied by the database (triggers on both tables, customers
    # migration 0016), never written by Django (see save()): the list's frozen filter walks a
    # partial index of the partner's active associations of frozen customers in its own order
    # instead of checking each of the partner's rows against the customer.
    customer_frozen = models.BooleanField(default=False, db_default=False, editable=False)

    class Meta:
        verbose_name = _("association")
        verbose_name_plural = _("associations")
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(status="active"),
                name="association_one_active_per_customer",
                violation_error_message=_("This customer is already associated with a partner."),
            ),
            models.CheckConstraint(
                condition=(Q(status="active") & Q(ended_at__isnull=True) & Q(end_reason=""))
                | (Q(status="ended") & Q(ended_at__isnull=False) & ~Q(end_reason="")),
                name="association_ended_fields",
                violation_error_message=_(
                    "An ended association has an end time and reason; an active one has neither."
                ),
            ),
        ]
        indexes = [
            # The customer list: one partner's active associations, newest first (keyset on id).
            models.Index(fields=["partner", "status", "-id"], name="assoc_partner_status_id"),
            models.Index(fields=["partner", "status", "type", "-id"], name="assoc_partner_status_type_id"),
            # The partner home's chart of new and ended associations per month.
            models.Index(fields=["partner", "started_at"], name="assoc_partner_started"),
            models.Index(fields=["partner", "ended_at"], name="assoc_partner_ended", condition=Q(status="ended")),
            # The customer list's default sort: newest association first, by its start.
            models.Index(fields=["partner", "status", "-started_at", "-id"], name="assoc_partner_status_started"),
            # The customer list's pending filter, in the list's default order.
            models.Index(
                fields=["partner", "-started_at", "-id"],
                name="assoc_partner_pending_started",
                condition=Q(status="active", has_pending_request=True),
            ),
            # The customer list's frozen filter, in the list's default order.
            models.Index(
                fields=["partner", "-started_at", "-id"],
                name="assoc_partner_frozen_started",
                condition=Q(status="active", customer_frozen=True),
            ),
        ]

    def __str__(self):
        return f"{self.partner} – {self.customer} ({self.get_type_display()})"

    def save(self, *args, **kwargs):
        """Never writes ``has_pending_request`` or ``customer_frozen``: the triggers keep them,
        and a row read before a request was submitted or closed, or before the customer was
        frozen or unfrozen, would otherwise write the old value back."""
        if not self._state.adding and kwargs.get("update_fields") is None and not kwargs.get("force_insert"):
            deferred = self.get_deferred_fields()  # as Django: a deferred field is not saved
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name not in KEPT_BY_TRIGGERS and f.attname not in deferred
            ]
        super().save(*args, **kwargs)

    @property
    def customer_type_label(self) -> str:
        """The association type in the customer's words (Account Center)."""
        return str(CUSTOMER_TYPE_LABELS[self.type])

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class AssociationRequest(models.Model):
    """A request to change an association: a partner's switch or unbind, which the customer
    confirms or rejects, or a customer's dissociation, which the partner approves or rejects.
    At most ``PC_PENDING_REQUESTS_PER_ASSOCIATION`` (default one) are pending per association
    (R6, R10): the ``request.pending`` check enforces it under the association's row lock."""

    class Kind(models.TextChoices):
        SWITCH = "switch", _("Switch association type")
        UNBIND = "unbind", _("Unbind")
        DISSOCIATION = "dissociation", _("Dissociation")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        CONFIRMED = "confirmed", _("Confirmed by the customer")
        APPROVED = "approved", _("Approved by the partner")
        AUTO_APPROVED = "auto_approved", _("Approved automatically")
        REJECTED = "rejected", _("Rejected")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired")
        FAILED = "failed", _("Failed")

    association = models.ForeignKey(
        Association, verbose_name=_("association"), on_delete=models.PROTECT, related_name="requests"
    )
    kind = models.CharField(_("request"), max_length=20, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    target_type = models.CharField(
        _("new association type"), max_length=10, choices=Association.Type.choices, blank=True
    )
    reason = models.TextField(_("reason"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("submitted"), default=timezone.now)
    deadline = models.DateTimeField(_("deadline"))
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    response_reason = models.TextField(_("response"), blank=True)
    failure_codes = models.JSONField(_("failed checks"), default=list, blank=True)

    class Meta:
        verbose_name = _("association request")
        verbose_name_plural = _("association requests")
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="switch") & ~Q(target_type="")) | (~Q(kind="switch") & Q(target_type="")),
                name="request_switch_has_target_type",
                violation_error_message=_("A switch names the new association type; other requests do not."),
            ),
        ]
        indexes = [
            models.Index(fields=["status", "deadline"], name="request_status_deadline"),
            models.Index(fields=["association", "kind", "-created_at"], name="request_assoc_kind_created"),
            # The partner home: requests by outcome and cooldowns ending, both by submission time.
            models.Index(fields=["created_at"], name="request_created"),
            # The requests inbox (and GET /api/v1/requests): a kind and a status, newest first.
            # Without it the inbox walked the primary key backwards through every request.
            models.Index(fields=["kind", "status", "-id"], name="request_kind_status_id"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def customer_kind_label(self) -> str:
        """What the request is, in the customer's words (Account Center)."""
        return str(CUSTOMER_KIND_LABELS[self.kind])

    @property
    def customer_target_type_label(self) -> str:
        return str(CUSTOMER_TYPE_LABELS[self.target_type]) if self.target_type else ""


class LedgerEntryQuerySet(models.QuerySet):
    """The ledger is append-only, like the operation records (and guarded the same way on
    PostgreSQL: customers migration 0005)."""

    def update(self, *args, **kwargs):
        # Also stands in for update_or_create and bulk_update, which take positional arguments.
        raise AppendOnlyError("Ledger entries cannot be changed.")

    def delete(self):
        raise AppendOnlyError("Ledger entries cannot be deleted.")

    update_or_create = update
    bulk_update = update


class LedgerEntry(models.Model):
    """One money movement, immutable. Balances after the movement are kept so the ledger can
    be replayed and checked against the balances at any time (R12)."""

    class Kind(models.TextChoices):
        TOP_UP = "top_up", _("Top-up by the vendor")
        VOUCHER_QUOTA_TOP_UP = "voucher_quota_top_up", _("Voucher quota top-up by the vendor")
        ALLOCATION = "allocation", _("Allocation")
        RECOVERY = "recovery", _("Recovery")
        RETURNED_ON_END = "returned_on_end", _("Returned on end/switch")

    partner = models.ForeignKey(Partner, verbose_name=_("partner"), on_delete=models.PROTECT, related_name="ledger")
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, null=True, blank=True, related_name="ledger"
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    amount = models.DecimalField(_("amount"), **MONEY)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True)
    partner_balance_after = models.DecimalField(_("partner balance after"), **MONEY)
    customer_balance_after = models.DecimalField(_("customer balance after"), null=True, blank=True, **MONEY)
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="ledger_amount_positive",
                violation_error_message=_("A ledger amount is always positive; the kind gives its direction."),
            ),
            models.CheckConstraint(
                condition=Q(partner_balance_after__gte=0),
                name="ledger_partner_balance_after_not_negative",
                violation_error_message=_("The partner balance cannot go below zero."),
            ),
            models.CheckConstraint(
                condition=Q(customer_balance_after__isnull=True) | Q(customer_balance_after__gte=0),
                name="ledger_customer_balance_after_not_negative",
                violation_error_message=_("The allocated balance cannot go below zero."),
            ),
        ]
        indexes = [
            models.Index(fields=["partner", "-id"], name="ledger_partner_id"),
            models.Index(fields=["customer", "-id"], name="ledger_customer_id"),
            # The partner home's chart of funds per month.
            models.Index(fields=["partner", "created_at"], name="ledger_partner_created"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Ledger entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Ledger entries cannot be deleted.")


def voucher_expired(voucher) -> bool:
    """Whether a voucher (a ``Voucher``, or a row read as values with its ``status`` and
    ``expires_at``) is past its date unused: expired, though its status still says unused."""
    return voucher.status == Voucher.Status.UNUSED and voucher.expires_at <= timezone.now()


class Voucher(models.Model):
    """Credit a partner issues to an associated customer from its voucher quota (R13)."""

    class Status(models.TextChoices):
        UNUSED = "unused", _("Unused")
        USED = "used", _("Used")
        RECOVERED = "recovered", _("Recovered")

    partner = models.ForeignKey(Partner, verbose_name=_("partner"), on_delete=models.PROTECT, related_name="vouchers")
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="vouchers"
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    expires_at = models.DateTimeField(_("expires"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.UNUSED)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("issued by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    issued_at = models.DateTimeField(_("issued"), default=timezone.now)
    recovered_at = models.DateTimeField(_("recovered"), null=True, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("voucher")
        verbose_name_plural = _("vouchers")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="voucher_amount_positive",
                violation_error_message=_("A voucher amount must be greater than zero."),
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "status"], name="voucher_customer_status"),
            models.Index(fields=["partner", "-id"], name="voucher_partner_id"),
        ]

    def __str__(self):
        return f"{self.amount} → {self.customer}"

    @property
    def is_expired(self) -> bool:
        return voucher_expired(self)


class Invitation(models.Model):
    """A pre-registration (报备): a single-use link e-mailed to a customer (R2a)."""

    class Status(models.TextChoices):
        SENT = "sent", _("Sent")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        EXPIRED = "expired", _("Expired")
        REVOKED = "revoked", _("Revoked")
        SUPERSEDED = "superseded", _("Superseded")

    partner = models.ForeignKey(
        Partner, verbose_name=_("partner"), on_delete=models.PROTECT, related_name="invitations"
    )
    email = models.EmailField(_("e-mail"))
    name = models.CharField(_("name"), max_length=200, blank=True)
    type = models.CharField(_("association type"), max_length=10, choices=Association.Type.choices)
    language = models.CharField(_("language"), max_length=10, blank=True)
    nonce = models.CharField(max_length=64, unique=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.SENT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("sent by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    superseded_by = models.OneToOneField(
        "self",
        verbose_name=_("superseded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="supersedes",
    )

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        indexes = [
            models.Index(fields=["partner", "-sent_at"], name="invitation_partner_sent"),
            # The partner home: invitations about to expire.
            models.Index(fields=["partner", "status", "expires_at"], name="invitation_partner_expiry"),
            # The Account Center home: the open invitations to the customer's e-mail, any
            # partner's (``open_invitations_for_customer``, ``email__iexact``: UPPER(email)).
            models.Index(
                Upper("email"), F("sent_at").desc(), name="invitation_open_email", condition=Q(status="sent")
            ),
        ]

    def __str__(self):
        return self.email

    @property
    def customer_type_label(self) -> str:
        """The offered association type in the customer's words (Account Center)."""
        return str(CUSTOMER_TYPE_LABELS[self.type])


class ProjectRegistration(models.Model):
    """A project a migration-programme partner registers for a customer (项目报备)."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    partner = models.ForeignKey(Partner, verbose_name=_("partner"), on_delete=models.PROTECT, related_name="projects")
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="projects"
    )
    name = models.CharField(_("project name"), max_length=200)
    expected_amount = models.DecimalField(_("expected amount"), **MONEY)
    expected_close = models.DateField(_("expected close date"))
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SUBMITTED)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    review_reason = models.TextField(_("review reason"), blank=True)

    class Meta:
        verbose_name = _("project registration")
        verbose_name_plural = _("project registrations")
        constraints = [
            models.CheckConstraint(
                condition=Q(expected_amount__gt=0),
                name="project_expected_amount_positive",
                violation_error_message=_("The expected amount must be greater than zero."),
            ),
        ]

    def __str__(self):
        return self.name


class PartnerDayCount(models.Model):
    """How many rows of one series a partner had on one UTC day under one customer manager, and
    their money in cents: the
    partner home's twelve-month charts read these instead of counting a million rows.

    Derived data, written only by database triggers (customers migration 0011) on associations
    (``assoc.started`` by ``started_at``, ``assoc.ended`` by ``ended_at`` while ended), ledger
    entries (``ledger.<kind>`` by ``created_at``, cents of ``amount``) and association requests
    (``request.<status>`` by ``created_at``): every insert, update and delete of those tables,
    by a service, the admin, a factory or SQL, moves the counts in the same transaction. No
    code writes it; ``customers.home.selectors`` reads it and counts the rest directly."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    # The customer's manager when the row is counted (0: none); a new manager takes the
    # customer's rows over. Not a foreign key: a count outlives nothing, it moves.
    manager_id = models.BigIntegerField(default=0)
    series = models.CharField(max_length=40)
    day = models.DateField()
    tally = models.BigIntegerField(default=0)
    cents = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "series", "day", "manager_id"], name="daycount_partner_series_day"
            ),
        ]
        # The home reads the counts from the index alone (the rows of a partner lie all over
        # the table, written as the days go by).
        indexes = [
            models.Index(fields=["partner", "series", "day", "manager_id", "tally", "cents"], name="daycount_read"),
        ]

    def __str__(self):
        return f"{self.partner_id} {self.series} {self.day}: {self.tally}"


class PartnerControls(models.Model):
    """A partner's settings of the reseller controls (issue 20). ``freeze_granted`` is set by
    a reseller's distributor: whether the reseller may freeze and unfreeze its own customers."""

    partner = models.OneToOneField(
        Partner, verbose_name=_("partner"), on_delete=models.CASCADE, primary_key=True, related_name="controls"
    )
    start_frozen_until_budget = models.BooleanField(
        _("new reseller customers start frozen until their first budget"), default=False,
        help_text=_("A customer that becomes a reseller customer is frozen until you set its first monthly budget."),
    )
    freeze_on_exhaustion = models.BooleanField(
        _("freeze on budget exhaustion"), default=False,
        help_text=_("Freeze a reseller customer automatically when its month-to-date spend reaches its budget."),
    )
    freeze_granted = models.BooleanField(
        _("may freeze its customers"), default=False,
        help_text=_("Set by the distributor: this reseller may freeze and unfreeze its own customers."),
    )

    class Meta:
        verbose_name = _("reseller controls settings")
        verbose_name_plural = _("reseller controls settings")

    def __str__(self):
        return str(self.partner)


class BudgetChange(models.Model):
    """One change of a customer's monthly budget: who, when, old and new, why (history)."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="budget_changes"
    )
    partner = models.ForeignKey(Partner, verbose_name=_("partner"), on_delete=models.PROTECT, related_name="+")
    old_budget = models.DecimalField(_("old budget"), null=True, blank=True, **MONEY)
    new_budget = models.DecimalField(_("new budget"), **MONEY)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True)
    reason = models.CharField(_("reason"), max_length=256, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("budget change")
        verbose_name_plural = _("budget changes")
        indexes = [models.Index(fields=["customer", "-id"], name="budget_change_customer_id")]

    def __str__(self):
        return f"{self.old_budget} → {self.new_budget}"


class UsagePosting(models.Model):
    """Usage the vendor's billing posted for a customer (an operator in the admin, or the
    billing system through the API). ``reference`` is the billing system's own id: posting it
    again changes nothing."""

    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="usage")
    amount = models.DecimalField(_("amount"), **MONEY)
    month = models.DateField(_("month"))
    reference = models.CharField(_("billing reference"), max_length=64, null=True, blank=True, unique=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("posted by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    posted_at = models.DateTimeField(_("posted"), default=timezone.now)

    class Meta:
        verbose_name = _("usage posting")
        verbose_name_plural = _("usage postings")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="usage_amount_positive",
                violation_error_message=_("Usage must be greater than zero."),
            ),
        ]
        indexes = [models.Index(fields=["customer", "-id"], name="usage_customer_id")]

    def __str__(self):
        return f"{self.customer} {self.amount}"


class Batch(models.Model):
    """One action applied to many customers at once (issue 20, SPEC R32): each customer is a
    ``BatchRow`` checked and changed on its own, in its own transaction, so a batch stopped
    half-way (cancelled, or its worker killed) resumes with the rows still pending and never
    applies a row twice."""

    class Action(models.TextChoices):
        FREEZE = "freeze", _("Freeze")
        UNFREEZE = "unfreeze", _("Unfreeze")
        BUDGET = "budget", _("Set monthly budget")
        MANAGER = "manager", _("Assign customer manager")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    partner = models.ForeignKey(Partner, verbose_name=_("partner"), on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("started by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    reason = models.CharField(_("reason"), max_length=256, blank=True)
    amount = models.DecimalField(_("monthly budget"), null=True, blank=True, **MONEY)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("customer manager"), on_delete=models.SET_NULL, null=True,
        blank=True, related_name="+",
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(_("rows"), default=0)
    created_at = models.DateTimeField(_("started"), default=timezone.now)
    heartbeat_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("batch action")
        verbose_name_plural = _("batch actions")
        indexes = [models.Index(fields=["partner", "-id"], name="batch_partner_id")]

    def __str__(self):
        return f"{self.get_action_display()} #{self.pk}"


class BatchRow(models.Model):
    """One customer of a batch and its outcome."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Pending")
        CHANGED = "changed", _("Changed")
        REFUSED = "refused", _("Not changed")

    batch = models.ForeignKey(Batch, verbose_name=_("batch action"), on_delete=models.CASCADE, related_name="rows")
    # Any id a caller sent: one that names no customer is a refused row ("not one of yours"),
    # so the link is not a database constraint.
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.DO_NOTHING, db_constraint=False, null=True,
        related_name="+",
    )
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    message = models.CharField(_("message"), max_length=500, blank=True)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)

    class Meta:
        verbose_name = _("batch row")
        verbose_name_plural = _("batch rows")
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "customer"], name="batch_row_once",
                violation_error_message=_("A customer is in a batch once."),
            ),
        ]
        indexes = [models.Index(fields=["batch", "outcome", "id"], name="batch_row_outcome")]

    def __str__(self):
        return f"{self.batch_id}:{self.customer_id} {self.outcome}"
