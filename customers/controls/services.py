"""Reseller controls (issue 20, SPEC R30–R31): freezing and unfreezing a reseller customer's
account, its monthly budget, and the usage the vendor's billing posts against it.

Who may act (``control_refusal``): the customer's own partner, unless it is a reseller whose
distributor has not granted it the right; and the distributor of the customer's reseller.
Referral customers pay the vendor themselves: no partner freezes them. A partner freeze is
lifted only by a partner (the one that froze it, or the distributor above it); a vendor freeze
only by an operator (admin). Each action locks the partner row, the customer row and the
association (the portal's order, DEVELOPERS.md rule 7), re-checks under the locks, changes the
account, writes its operation record and queues its e-mail in one transaction.
"""
import zoneinfo
from datetime import UTC, date, datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.events import Event
from audit.services import record
from customers.models import (
    Association,
    BudgetChange,
    Customer,
    FreezeSource,
    PartnerControls,
    UsagePosting,
)
from notifications.email import queue_email
from organization.models import Partner, User
from partnercenter.money import CENT, format_amount, positive_amount_error

REASON_MAX_LENGTH = 256
THRESHOLDS = (80, 100)
FREEZE_PERMISSION = "customers.freeze_customers"


# Rules ----------------------------------------------------------------------------------------


def controls_of(partner: Partner) -> PartnerControls:
    """The partner's control settings (defaults when it never saved any)."""
    try:
        return partner.controls
    except PartnerControls.DoesNotExist:
        return PartnerControls(partner=partner)


def freeze_granted(partner: Partner) -> bool:
    """Whether ``partner`` may freeze its own customers: every partner but a reseller whose
    distributor has not granted it."""
    if partner.kind != Partner.Kind.RESELLER:
        return True
    return PartnerControls.objects.filter(partner=partner, freeze_granted=True).exists()


def control_refusal(*, partner: Partner, association: Association, granted: bool | None = None) -> str | None:
    """Why ``partner`` may not freeze or unfreeze this association's customer, or None.
    ``granted``: ``freeze_granted(partner)`` as a page read it once (``granted_for``); a
    service leaves it out, so the grant is read again under its locks."""
    if not association.is_active:
        return _("This customer is no longer associated with your organization.")
    if association.partner_id != partner.pk and association.partner.distributor_id != partner.pk:
        return _("This customer is not associated with your organization or one of your resellers.")
    if association.type != Association.Type.RESELLER:
        return _(
            "Referral customers cannot be frozen or unfrozen by a partner: they pay the vendor themselves, "
            "so only the vendor can freeze their accounts."
        )
    if association.partner_id == partner.pk and not (freeze_granted(partner) if granted is None else granted):
        return _(
            "Your distributor has not granted you the right to freeze and unfreeze your customers. "
            "Ask your distributor to grant it."
        )
    return None


def unfreeze_refusal(*, partner: Partner, association: Association, granted: bool | None = None) -> str | None:
    """Why ``partner`` may not lift the freeze of this association's customer, or None."""
    refusal = control_refusal(partner=partner, association=association, granted=granted)
    if refusal:
        return refusal
    customer = association.customer
    if not customer.frozen:
        return _("This customer account is not frozen.")
    if customer.frozen_by_vendor:
        return _("The vendor froze this account; only the vendor can unfreeze it. Contact the vendor.")
    if customer.frozen_by_partner_id not in (partner.pk, None) and partner.pk != association.partner.distributor_id:
        return _("Your distributor froze this account; only your distributor can unfreeze it.")
    return None


def freeze_refusal(*, partner: Partner, association: Association) -> str | None:
    refusal = control_refusal(partner=partner, association=association)
    if refusal:
        return refusal
    customer = association.customer
    if customer.frozen_by_vendor:
        return _("The vendor has already frozen this account.")
    if customer.frozen:
        return _("This customer account is already frozen.")
    return None


def budget_refusal(*, partner: Partner, association: Association) -> str | None:
    """Why ``partner`` may not set this association's customer's budget, or None: only the
    partner that funds a reseller customer budgets it."""
    if not association.is_active or association.partner_id != partner.pk:
        return _("This customer is no longer associated with your organization.")
    if association.type != Association.Type.RESELLER:
        return _("Monthly budgets apply only to reseller customers: referral customers pay the vendor themselves.")
    return None


def max_budget() -> Decimal:
    return Decimal(settings.PARTNER_CENTER["MAX_BUDGET_AMOUNT"])


def budget_amount_error(amount) -> str | None:
    return positive_amount_error(amount, maximum=max_budget(), too_big=_("Enter a budget of at most %(maximum)s."))


def reason_error(reason: str, *, required: bool = True) -> str | None:
    if required and not (reason or "").strip():
        return _("Enter a reason.")
    if len(reason or "") > REASON_MAX_LENGTH:
        return _("Enter a reason of at most %(limit)s characters.") % {"limit": REASON_MAX_LENGTH}
    return None


def _refuse(message: str | None, code: str) -> None:
    if message:
        raise ValidationError(message, code=code)


# Months ----------------------------------------------------------------------------------------


def customer_zone(customer: Customer):
    """The customer's time zone setting (its sign-in user's), else UTC."""
    name = customer.user.time_zone if customer.user_id and customer.user else ""
    try:
        return zoneinfo.ZoneInfo(name) if name else UTC
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return UTC


def month_of(customer: Customer, moment: datetime | None = None) -> date:
    """The first day of the month ``moment`` (now) falls in, in the customer's time zone."""
    local = (moment or timezone.now()).astimezone(customer_zone(customer))
    return local.date().replace(day=1)


def month_to_date(customer: Customer, moment: datetime | None = None) -> Decimal:
    """What the customer spent this month: zero once a new month has begun in its time zone."""
    if customer.spend_month is None or customer.spend_month != month_of(customer, moment):
        return Decimal("0.00")
    return customer.month_spend


def used_percent(customer: Customer, moment: datetime | None = None) -> int | None:
    if not customer.monthly_budget:
        return None
    return int(month_to_date(customer, moment) * 100 / customer.monthly_budget)


def _reached(spend: Decimal, budget: Decimal | None) -> int:
    """The highest threshold ``spend`` has reached of ``budget`` (0 when none)."""
    if not budget:
        return 0
    return max((t for t in THRESHOLDS if spend * 100 >= budget * t), default=0)


# Locks and effects ---------------------------------------------------------------------------------


def _lock(association: Association, *, partner_row: bool = True) -> Association:
    """Lock the association's partner, customer and association rows, in that order, and
    return the association as it is now, with them attached. ``partner_row=False``: an action
    that neither changes nor reads anything of the partner that could change under it (a
    budget) leaves the partner row unlocked."""
    # ``of``: the joined distributor and sign-in user may be missing (an outer join), and
    # PostgreSQL locks no such side.
    if partner_row:
        partner = (
            Partner.objects.select_for_update(of=("self",)).select_related("distributor").get(pk=association.partner_id)
        )
    elif Association.partner.is_cached(association):
        partner = association.partner  # not locked: nothing of it is read as the action's condition
    else:
        partner = Partner.objects.select_related("distributor").get(pk=association.partner_id)
    customer = (
        Customer.objects.select_for_update(of=("self",)).select_related("user").get(pk=association.customer_id)
    )
    locked = Association.objects.select_for_update().get(pk=association.pk)
    if locked.partner_id != partner.pk:  # cannot happen: an association keeps its partner
        partner = Partner.objects.select_related("distributor").get(pk=locked.partner_id)
    locked.partner, locked.customer = partner, customer
    return locked


def _freeze_state(customer: Customer) -> dict:
    return {
        "frozen": customer.frozen,
        "frozen_source": customer.frozen_source,
        "frozen_by_partner": customer.frozen_by_partner_id,
        "frozen_reason": customer.frozen_reason,
    }


_FREEZE_FIELDS = ["frozen", "frozen_source", "frozen_by_partner", "frozen_by", "frozen_by_name", "frozen_at",
                  "frozen_reason"]


def set_freeze(customer: Customer, *, source: str, partner: Partner | None, actor, reason: str) -> None:
    """Mark ``customer`` frozen (source ``partner`` or ``vendor``) or, with source "", not
    frozen. The caller holds the customer's lock and saves it."""
    frozen = source != FreezeSource.NONE
    customer.frozen = frozen
    customer.frozen_source = source
    customer.frozen_by_partner = partner if frozen else None
    customer.frozen_by = actor if frozen else None
    customer.frozen_by_name = ((str(actor) if actor is not None else "system")[:150]) if frozen else ""
    customer.frozen_at = timezone.now() if frozen else None
    customer.frozen_reason = reason if frozen else ""


def _apply_freeze(*, actor, association: Association, partner: Partner | None, source: str, reason: str,
                  event: str) -> None:
    customer = association.customer
    before = _freeze_state(customer)
    set_freeze(customer, source=source, partner=partner, actor=actor, reason=reason)
    customer.save(update_fields=_FREEZE_FIELDS)
    record(
        event=event,
        actor=actor,
        partner=association.partner,
        customer=customer,
        association=association,
        reason=reason,
        before=before,
        after=_freeze_state(customer),
    )
    email_customer_freeze(customer, partner=association.partner, reason=reason)


def email_customer_freeze(customer: Customer, *, partner: Partner | None, reason: str) -> None:
    """Tell the customer its account was frozen or unfrozen, in its language."""
    if not customer.email:
        return
    language = customer.user.language if customer.user_id and customer.user else ""
    with translation.override(language or settings.LANGUAGE_CODE):
        by_vendor = customer.frozen_by_vendor
        if customer.frozen:
            subject = _("Your account %(account)s has been frozen") % {"account": customer.account_name}
        else:
            subject = _("Your account %(account)s has been unfrozen") % {"account": customer.account_name}
        body = render_to_string(
            "customers/controls/email_customer.txt",
            {"customer": customer, "partner": partner, "reason": reason, "by_vendor": by_vendor},
        )
    queue_email(to=customer.email, subject=subject, body=body, kind="account_freeze")


def _email_partner_budget(association: Association, threshold: int, spend: Decimal) -> None:
    customer, partner = association.customer, association.partner
    admins = User.objects.filter(partner=partner, is_partner_admin=True, is_active=True).exclude(email="")
    for admin in admins:
        with translation.override(admin.language or settings.LANGUAGE_CODE):
            values = {"account": customer.account_name, "percent": threshold}
            subject = _("%(account)s has used %(percent)s %% of its monthly budget") % values
            body = render_to_string(
                "customers/controls/email_budget.txt",
                {
                    "customer": customer, "partner": partner, "threshold": threshold,
                    "spend": format_amount(spend), "budget": format_amount(customer.monthly_budget),
                    "frozen": customer.frozen,
                },
            )
        queue_email(to=admin.email, subject=subject, body=body, kind="budget_threshold")


# Services --------------------------------------------------------------------------------------


@transaction.atomic
def customer_freeze(*, actor, association: Association, reason: str) -> Customer:
    """``actor``'s partner freezes this reseller customer's account (SPEC R30)."""
    return freeze_in_transaction(actor=actor, association=association, reason=reason)


def freeze_in_transaction(*, actor, association: Association, reason: str) -> Customer:
    """``customer_freeze`` inside the caller's transaction (no savepoint of its own): on a
    refusal (raised before anything is written) or any other error the caller rolls its
    transaction back whole. The batch runner calls it so that a row costs no savepoint."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("freeze_in_transaction must run inside a transaction.")
    _refuse(reason_error(reason), "reason")
    locked = _lock(association)
    partner = actor.partner
    _refuse(freeze_refusal(partner=partner, association=locked), "not_allowed")
    _apply_freeze(actor=actor, association=locked, partner=partner, source=FreezeSource.PARTNER, reason=reason,
                  event=Event.CUSTOMER_FROZEN)
    return locked.customer


@transaction.atomic
def customer_unfreeze(*, actor, association: Association, reason: str) -> Customer:
    """``actor``'s partner lifts a partner freeze of this reseller customer's account."""
    return unfreeze_in_transaction(actor=actor, association=association, reason=reason)


def unfreeze_in_transaction(*, actor, association: Association, reason: str) -> Customer:
    """``customer_unfreeze`` inside the caller's transaction (see ``freeze_in_transaction``)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("unfreeze_in_transaction must run inside a transaction.")
    _refuse(reason_error(reason), "reason")
    locked = _lock(association)
    _refuse(unfreeze_refusal(partner=actor.partner, association=locked), "not_allowed")
    _apply_freeze(actor=actor, association=locked, partner=None, source=FreezeSource.NONE, reason=reason,
                  event=Event.CUSTOMER_UNFROZEN)
    return locked.customer


def vendor_freeze_changed(*, actor, customer: Customer, association: Association | None) -> None:
    """An operator turned the ``frozen`` fact on or off in the admin (inside the admin's
    transaction, the customer row locked by ``customers.services.customer_facts_save``): a
    vendor freeze, or the lifting of any freeze. Fills in who, when and why, records it and
    tells the customer."""
    reason = customer.frozen_reason
    before = {"frozen": not customer.frozen}
    set_freeze(
        customer, source=FreezeSource.VENDOR if customer.frozen else FreezeSource.NONE, partner=None, actor=actor,
        reason=reason,
    )
    record(
        event=Event.CUSTOMER_FROZEN if customer.frozen else Event.CUSTOMER_UNFROZEN,
        actor=actor,
        partner=association.partner if association else None,
        customer=customer,
        association=association,
        reason=reason,
        before=before,
        after=_freeze_state(customer),
    )
    email_customer_freeze(customer, partner=association.partner if association else None, reason=reason)


def reseller_customer_started(*, association: Association) -> None:
    """A customer has just become ``association.partner``'s reseller customer (an association
    created or switched, inside that transaction with the customer locked): a partner that
    chose so has it start frozen until its first budget (the vendor's rule)."""
    customer = association.customer
    if customer.frozen or not controls_of(association.partner).start_frozen_until_budget:
        return
    customer.monthly_budget = None
    customer.save(update_fields=["monthly_budget"])
    with translation.override(settings.LANGUAGE_CODE):
        reason = _("Waiting for the first monthly budget")
    _apply_freeze(actor=None, association=association, partner=association.partner, source=FreezeSource.PARTNER,
                  reason=reason, event=Event.CUSTOMER_FROZEN)


@transaction.atomic
def customer_budget_set(
    *, actor, association: Association, amount: Decimal, reason: str = "", unfreeze: bool = False
) -> Customer:
    """Set or change a reseller customer's monthly budget, with its history row and record.
    A freeze the budget caused (the start-frozen setting or an exhausted budget: frozen by the
    system for this partner) is lifted when the new budget leaves room; ``unfreeze`` also
    lifts a member's partner freeze in the same step (it needs the freeze permission)."""
    return budget_set_in_transaction(actor=actor, association=association, amount=amount, reason=reason,
                                     unfreeze=unfreeze)


def budget_set_in_transaction(
    *, actor, association: Association, amount: Decimal, reason: str = "", unfreeze: bool = False
) -> Customer:
    """``customer_budget_set`` inside the caller's transaction (see ``freeze_in_transaction``)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("budget_set_in_transaction must run inside a transaction.")
    _refuse(budget_amount_error(amount), "amount")
    _refuse(reason_error(reason, required=False), "reason")
    # Everything it changes is the customer's (a freeze it lifts too): the customer row
    # serializes it with the freeze services, and a batch's rows do not queue on the partner.
    locked = _lock(association, partner_row=False)
    partner = actor.partner
    _refuse(budget_refusal(partner=partner, association=locked), "not_allowed")
    customer = locked.customer
    old = customer.monthly_budget
    if old == amount and not (unfreeze and customer.frozen):
        raise ValidationError(
            _("The monthly budget is already %(amount)s.") % {"amount": format_amount(amount)}, code="unchanged"
        )
    if unfreeze:
        if not actor.has_perm(FREEZE_PERMISSION):
            raise ValidationError(_("You may not unfreeze customers."), code="permission")
        _refuse(unfreeze_refusal(partner=partner, association=locked), "not_allowed")
    spend = month_to_date(customer)
    customer.monthly_budget = amount
    # A higher budget may put the customer below a threshold again: it is told anew on reaching it.
    customer.budget_alert = min(customer.budget_alert, _reached(spend, amount)) if customer.spend_month else 0
    customer.save(update_fields=["monthly_budget", "budget_alert"])
    change = BudgetChange.objects.create(
        customer=customer, partner=locked.partner, old_budget=old, new_budget=amount, actor=actor,
        actor_name=str(actor)[:150], reason=reason,
    )
    record(
        event=Event.BUDGET_SET,
        actor=actor,
        partner=locked.partner,
        customer=customer,
        association=locked,
        reason=reason,
        before={"monthly_budget": str(old) if old is not None else None},
        after={"monthly_budget": str(amount), "budget_change": change.pk},
    )
    system_freeze = (
        customer.frozen and customer.frozen_source == FreezeSource.PARTNER and customer.frozen_by_id is None
        and customer.frozen_by_partner_id == locked.partner_id and spend < amount
    )
    if customer.frozen and (unfreeze or system_freeze):
        _apply_freeze(actor=actor, association=locked, partner=None, source=FreezeSource.NONE, reason=reason,
                      event=Event.CUSTOMER_UNFROZEN)
    return customer


@transaction.atomic
def customer_usage_post(
    *, actor, customer: Customer, amount: Decimal, at: datetime | None = None, reference: str | None = None
) -> UsagePosting:
    """The vendor's billing posts ``amount`` of usage for ``customer`` (an operator, or the
    billing system through the API). It counts towards the month it falls in, in the
    customer's time zone; a new month starts from zero. Reaching 80 % and 100 % of a reseller
    customer's budget notifies its partner once a month each, and at 100 % a partner that
    chose so has the account frozen (actor: system). ``reference``: the billing system's id,
    a second posting with it changes nothing and returns the first (``replayed``)."""
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0 or amount != amount.quantize(CENT):
        raise ValidationError(_("Enter usage greater than zero with at most two decimal places."), code="amount")
    if amount > max_budget():
        raise ValidationError(_("Enter usage of at most %(maximum)s.") % {"maximum": max_budget()}, code="amount")
    current = Association.objects.filter(customer_id=customer.pk, status=Association.Status.ACTIVE).first()
    if current is not None:
        association = _lock(current)
        locked = association.customer
        if not association.is_active:
            association = None
    else:
        association = None
        locked = Customer.objects.select_for_update(of=("self",)).select_related("user").get(pk=customer.pk)
    if reference:
        existing = UsagePosting.objects.filter(reference=reference).first()
        if existing is not None:
            if existing.customer_id != locked.pk or existing.amount != amount:
                raise ValidationError(_("This billing reference was already used for other usage."), code="reference")
            existing.replayed = True
            return existing
    moment = at or timezone.now()
    month = month_of(locked, moment)
    current_month = month_of(locked)
    if month > current_month:
        raise ValidationError(_("Usage cannot be posted for a month that has not begun."), code="future")
    posting = UsagePosting.objects.create(
        customer=locked, amount=amount, month=month, reference=reference or None, posted_by=actor
    )
    posting.replayed = False
    before = {"month_spend": str(month_to_date(locked)), "spend_month": str(locked.spend_month or "")}
    if month == current_month:
        if locked.spend_month != month:
            locked.spend_month, locked.month_spend, locked.budget_alert = month, Decimal("0.00"), 0
        locked.month_spend += amount
        locked.save(update_fields=["spend_month", "month_spend", "budget_alert"])
    record(
        event=Event.USAGE_POSTED,
        actor=actor,
        partner=association.partner if association else None,
        customer=locked,
        association=association,
        before=before,
        after={"month_spend": str(month_to_date(locked)), "spend_month": str(locked.spend_month or ""),
               "amount": str(amount), "month": str(month), "usage_posting": posting.pk},
    )
    if association is not None and association.type == Association.Type.RESELLER and month == current_month:
        _thresholds(association)
    return posting


def _thresholds(association: Association) -> None:
    customer = association.customer
    spend = customer.month_spend
    reached = _reached(spend, customer.monthly_budget)
    for threshold in THRESHOLDS:
        if customer.budget_alert < threshold <= reached:
            customer.budget_alert = threshold
            customer.save(update_fields=["budget_alert"])
            record(
                event=Event.BUDGET_REACHED_80 if threshold == 80 else Event.BUDGET_REACHED_100,
                partner=association.partner,
                customer=customer,
                association=association,
                after={"month_spend": str(spend), "monthly_budget": str(customer.monthly_budget),
                       "percent": threshold},
            )
            if threshold == 100 and not customer.frozen and controls_of(association.partner).freeze_on_exhaustion:
                with translation.override(settings.LANGUAGE_CODE):
                    reason = _("Monthly budget used up")
                _apply_freeze(actor=None, association=association, partner=association.partner,
                              source=FreezeSource.PARTNER, reason=reason, event=Event.CUSTOMER_FROZEN)
            _email_partner_budget(association, threshold, spend)


@transaction.atomic
def controls_settings_update(
    *, actor, start_frozen_until_budget: bool, freeze_on_exhaustion: bool, granted_resellers=None
) -> PartnerControls:
    """The partner's own control settings; for a distributor also which of its resellers may
    freeze and unfreeze their own customers (``granted_resellers``; None leaves them as they
    are). One record for the settings, one per reseller whose right changed."""
    partner = Partner.objects.select_for_update().get(pk=actor.partner_id)
    row, _created = PartnerControls.objects.select_for_update().get_or_create(partner=partner)
    before = {"start_frozen_until_budget": row.start_frozen_until_budget,
              "freeze_on_exhaustion": row.freeze_on_exhaustion}
    row.start_frozen_until_budget = start_frozen_until_budget
    row.freeze_on_exhaustion = freeze_on_exhaustion
    row.save(update_fields=["start_frozen_until_budget", "freeze_on_exhaustion"])
    after = {"start_frozen_until_budget": start_frozen_until_budget, "freeze_on_exhaustion": freeze_on_exhaustion}
    if after != before:
        record(event=Event.CONTROLS_SETTINGS_UPDATED, actor=actor, partner=partner, before=before, after=after)
    if granted_resellers is not None:
        wanted = {reseller.pk for reseller in granted_resellers}
        for reseller in Partner.objects.select_for_update().filter(distributor=partner).order_by("pk"):
            _grant(actor=actor, distributor=partner, reseller=reseller, granted=reseller.pk in wanted)
        if wanted - set(Partner.objects.filter(distributor=partner).values_list("pk", flat=True)):
            raise ValidationError(_("This reseller is not one of yours."), code="not_allowed")
    return row


def _grant(*, actor, distributor: Partner, reseller: Partner, granted: bool) -> None:
    row, _created = PartnerControls.objects.select_for_update().get_or_create(partner=reseller)
    if row.freeze_granted == granted:
        return
    before = {"freeze_granted": row.freeze_granted, "reseller": reseller.pk}
    row.freeze_granted = granted
    row.save(update_fields=["freeze_granted"])
    record(event=Event.FREEZE_GRANT_CHANGED, actor=actor, partner=distributor, before=before,
           after={"freeze_granted": granted, "reseller": reseller.pk})
