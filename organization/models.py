"""Accounts, partners, roles.

One user model serves every kind of person: organization members (including each partner's
administrator), customer account owners and the vendor's operators. Members sign in with
partner account name + member user name; internally their unique ``username`` is
``"<partner account>:<member name>"`` so Django's and django-axes' machinery work unchanged.
"""
from decimal import Decimal

from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractBaseUser, Permission, PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from organization.permissions import BUILTIN_ROLE_DESCRIPTIONS

member_name_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
    _("Use 1–64 letters, digits, dots, dashes or underscores, starting with a letter or digit."),
)
currency_validator = RegexValidator(r"^[A-Z]{3}$", _("Use the three-letter ISO 4217 code, such as USD or CNY."))
account_name_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9-]{1,62}$",
    _("Use 2–63 lower-case letters, digits or dashes, starting with a letter or digit."),
)


class Partner(models.Model):
    """A company in the partner programme. A reseller always sits under one distributor."""

    class Kind(models.TextChoices):
        SOLUTION_PROVIDER = "solution_provider", _("Solution provider")
        DISTRIBUTOR = "distributor", _("Distributor")
        RESELLER = "reseller", _("Reseller")

    account_name = models.CharField(
        _("partner account name"), max_length=63, unique=True, validators=[account_name_validator]
    )
    name = models.CharField(_("company name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    distributor = models.ForeignKey(
        "self",
        verbose_name=_("distributor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="resellers",
        limit_choices_to={"kind": Kind.DISTRIBUTOR},
    )
    frozen = models.BooleanField(_("frozen"), default=False)
    in_migration_programme = models.BooleanField(_("in the migration programme"), default=False)
    operation_protection = models.BooleanField(
        _("operation protection"),
        default=False,
        help_text=_("Ask members for their password again before sensitive actions."),
    )
    balance = models.DecimalField(_("balance"), max_digits=14, decimal_places=2, default=Decimal("0.00"))
    voucher_quota = models.DecimalField(
        _("voucher quota"), max_digits=14, decimal_places=2, default=Decimal("0.00")
    )
    currency = models.CharField(
        _("currency"),
        max_length=3,
        default="USD",
        db_default="USD",  # rows written by hand (bench/generate.py) get it too
        validators=[currency_validator],
        help_text=_("The currency of the partner's balance, voucher quota and every amount it moves."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="reseller") & Q(distributor__isnull=False))
                | (~Q(kind="reseller") & Q(distributor__isnull=True)),
                name="partner_reseller_has_distributor",
                violation_error_message=_("A reseller needs a distributor; other partners have none."),
            ),
            models.CheckConstraint(
                condition=Q(balance__gte=0),
                name="partner_balance_not_negative",
                violation_error_message=_("The partner balance cannot go below zero."),
            ),
            models.CheckConstraint(
                condition=Q(voucher_quota__gte=0),
                name="partner_voucher_quota_not_negative",
                violation_error_message=_("The voucher quota cannot go below zero."),
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_distributor(self) -> bool:
        return self.kind == self.Kind.DISTRIBUTOR

    @property
    def is_frozen_effectively(self) -> bool:
        """Frozen itself, or a reseller whose distributor is frozen (SPEC R15)."""
        return self.frozen or bool(self.distributor_id and self.distributor.frozen)


class Role(models.Model):
    """A named set of portal permissions. Built-in roles (partner empty) are shared by every
    partner and created by a data migration; custom roles belong to one partner."""

    class Builtin(models.TextChoices):
        SYSTEM_ADMIN = "system_admin", _("System Administrator")
        CUSTOMER_MANAGER = "customer_manager", _("Customer Manager")
        CUSTOMER_MANAGER_SUPERVISOR = "customer_manager_supervisor", _("Customer Manager Supervisor")
        FINANCE = "finance", _("Finance")
        READ_ONLY = "read_only", _("Read-only")

    partner = models.ForeignKey(
        Partner, verbose_name=_("partner"), on_delete=models.CASCADE, null=True, blank=True, related_name="roles"
    )
    builtin = models.CharField(_("built-in role"), max_length=40, choices=Builtin.choices, blank=True)
    name = models.CharField(_("name"), max_length=60)
    description = models.CharField(_("description"), max_length=200, blank=True)
    permissions = models.ManyToManyField(Permission, verbose_name=_("permissions"), blank=True)

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        ordering = ["partner_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["builtin"],
                condition=~Q(builtin=""),
                name="role_builtin_unique",
                violation_error_message=_("This built-in role exists already."),
            ),
            models.UniqueConstraint(
                fields=["partner", "name"],
                name="role_name_unique_per_partner",
                violation_error_message=_("A role with this name exists already."),
            ),
            models.CheckConstraint(
                condition=(Q(partner__isnull=True) & ~Q(builtin="")) | (Q(partner__isnull=False) & Q(builtin="")),
                name="role_builtin_xor_partner",
                violation_error_message=_("A role is either built in or belongs to one partner."),
            ),
        ]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        return str(self.Builtin(self.builtin).label) if self.builtin else self.name

    @property
    def display_description(self) -> str:
        """A built-in role's description in the user's language; a custom role's as typed."""
        if self.builtin:
            return str(BUILTIN_ROLE_DESCRIPTIONS[self.builtin])
        return self.description


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, username, password=None, **extra):
        user = self.model(username=username, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, username, password=None, **extra):
        extra.update(kind=User.Kind.OPERATOR, is_staff=True, is_superuser=True)
        return self.create_user(username, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """Anyone who signs in: a member of a partner, a customer account owner, or an operator."""

    class Kind(models.TextChoices):
        MEMBER = "member", _("Organization member")
        CUSTOMER = "customer", _("Customer")
        OPERATOR = "operator", _("Operator")

    username = models.CharField(_("sign-in name"), max_length=150, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    partner = models.ForeignKey(
        Partner, verbose_name=_("partner"), on_delete=models.PROTECT, null=True, blank=True, related_name="members"
    )
    member_name = models.CharField(
        _("member user name"), max_length=64, blank=True, validators=[member_name_validator]
    )
    display_name = models.CharField(_("name"), max_length=100, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    mobile = models.CharField(
        _("mobile"),
        max_length=20,
        blank=True,
        help_text=_("International form with country code, e.g. +8613812345678."),
    )
    language = models.CharField(_("language"), max_length=10, blank=True)
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        db_default="",
        help_text=_("Dates and times are shown in this time zone; empty: the browser's."),
    )
    is_partner_admin = models.BooleanField(_("partner administrator"), default=False)
    roles = models.ManyToManyField(Role, verbose_name=_("roles"), blank=True, related_name="members")
    supervisor = models.ForeignKey(
        "self",
        verbose_name=_("supervisor"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="supervised",
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("operator (admin site access)"), default=False)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["email"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        permissions = [
            ("manage_members", _("Can manage organization members")),
            ("manage_roles", _("Can manage roles")),
            ("manage_settings", _("Can manage organization settings")),
            ("use_api", _("Can use the API")),
        ]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=~Q(email=""),
                name="user_email_unique_ci",
                violation_error_message=_(
                    "This e-mail is already registered. Remove it from the other account first, or use another one."
                ),
            ),
            models.UniqueConstraint(
                fields=["mobile"],
                condition=~Q(mobile=""),
                name="user_mobile_unique",
                violation_error_message=_(
                    "This mobile is already registered. Remove it from the other account first, or use another one."
                ),
            ),
            models.UniqueConstraint(
                fields=["partner", "member_name"],
                condition=Q(kind="member"),
                name="member_name_unique_per_partner",
                violation_error_message=_("This member user name is taken in your organization."),
            ),
            models.CheckConstraint(
                condition=(Q(kind="member") & Q(partner__isnull=False) & ~Q(member_name=""))
                | (~Q(kind="member") & Q(partner__isnull=True)),
                name="user_member_has_partner",
                violation_error_message=_("A member belongs to exactly one partner; other users to none."),
            ),
        ]

    def __str__(self):
        return self.shown_name(self.display_name, self.member_name, self.username)

    @staticmethod
    def shown_name(display_name: str, member_name: str, username: str) -> str:
        """How a user is named on pages, from the three fields (for rows read without a model)."""
        return display_name or member_name or username

    @staticmethod
    def member_username(partner_account: str, member_name: str) -> str:
        return f"{partner_account.strip().lower()}:{member_name.strip()}"

    @property
    def is_member(self) -> bool:
        return self.kind == self.Kind.MEMBER and self.partner_id is not None

    @property
    def is_customer(self) -> bool:
        return self.kind == self.Kind.CUSTOMER

    def get_full_name(self):
        return str(self)

    def get_short_name(self):
        return str(self)
