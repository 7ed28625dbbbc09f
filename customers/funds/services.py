"""Funds and vouchers (SPEC §3.4–3.5, R11–R13).

Money moves only through these functions. Each one locks the partner row and then the
customer row (the order every service in the portal uses, so two actions never deadlock),
re-reads what it checks under those locks, changes the balances, writes one immutable
``LedgerEntry`` per movement with the balances after it, and records the operation, all in one
transaction. The database's CHECK constraints are the last guard against a negative balance.

``idempotency_key``: the one-time token a form carries. A second call with the same token
(double click, browser retry) changes nothing and returns what the first call created, with
``replayed`` set to True on it.
"""
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.events import Event
from audit.services import record
from customers.models import Association, Customer, LedgerEntry, Voucher
from organization.models import Partner
from partnercenter.money import format_amount, positive_amount_error

# The largest value a MONEY column (14 digits, 2 places) can hold.
MONEY_LIMIT = Decimal("999999999999.99")


def max_funds_amount() -> Decimal:
    return Decimal(settings.PARTNER_CENTER["MAX_FUNDS_AMOUNT"])


def amount_error(amount) -> str | None:
    """Why ``amount`` cannot be moved, or None. Forms show this before the service runs; the
    service checks again so no caller can skip it."""
    return positive_amount_error(
        amount, maximum=max_funds_amount(), too_big=_("Enter an amount of at most %(maximum)s.")
    )


def funds_refusal(association: Association) -> str | None:
    """Why funds cannot be allocated to or recovered from this association's customer (R11),
    or None. The pages use it to explain before submitting; the services re-check it under
    the lock."""
    if not association.is_active:
        return _("This customer is no longer associated with your organization.")
    if association.type != Association.Type.RESELLER:
        return _("Funds cannot be allocated to or recovered from referral customers.")
    return None


def _check_amount(amount) -> None:
    error = amount_error(amount)
    if error:
        raise ValidationError(error, code="amount")


def _check_fits(value: Decimal) -> None:
    if value > MONEY_LIMIT:
        raise ValidationError(
            _("This would take the balance above %(limit)s, the largest amount the system holds."),
            params={"limit": MONEY_LIMIT},
            code="overflow",
        )


def _actor_name(actor) -> str:
    return (str(actor) if actor is not None else "system")[:150]


def _lock(partner_id: int, customer_id: int | None = None) -> tuple[Partner, Customer | None]:
    partner = Partner.objects.select_for_update().get(pk=partner_id)
    customer = Customer.objects.select_for_update().get(pk=customer_id) if customer_id else None
    return partner, customer


def _sync(association: Association, partner: Partner, customer: Customer | None) -> None:
    """Copy the new balances onto the caller's association's partner and customer, when it
    has them loaded, so a later ``save()`` of the caller's instances cannot write back the
    balances they had before."""
    if Association.partner.is_cached(association):
        association.partner.balance = partner.balance
        association.partner.voucher_quota = partner.voucher_quota
    if customer is not None and Association.customer.is_cached(association):
        association.customer.allocated_balance = customer.allocated_balance


def _key(partner: Partner, token) -> str | None:
    # Scoped by partner: every keyed action locks its partner first, so two submits of one
    # token are serialized and the second finds the first's row before it writes its own.
    return f"{partner.pk}:{token}" if token else None


def _replayed(model, key: str | None, **expected):
    """The object an earlier call with ``key`` created, or None. A token used for a
    different action is refused rather than answered with an unrelated result."""
    if key is None:
        return None
    existing = model.objects.filter(idempotency_key=key).first()
    other = Voucher if model is LedgerEntry else LedgerEntry
    if existing is None and not other.objects.filter(idempotency_key=key).exists():
        return None
    if existing is None or any(getattr(existing, field) != value for field, value in expected.items()):
        raise ValidationError(
            _("This form was already used for another operation. Open the form again."), code="token_reused"
        )
    existing.replayed = True
    return existing


def _ledger(*, partner, customer, kind, amount, actor, key) -> LedgerEntry:
    entry = LedgerEntry.objects.create(
        partner=partner,
        customer=customer,
        kind=kind,
        amount=amount,
        actor=actor,
        actor_name=_actor_name(actor),
        partner_balance_after=partner.balance,
        customer_balance_after=customer.allocated_balance if customer is not None else None,
        idempotency_key=key,
    )
    entry.replayed = False
    return entry


def _active_association(partner: Partner, customer: Customer) -> Association | None:
    return Association.objects.filter(partner=partner, customer=customer, status=Association.Status.ACTIVE).first()


# Effects of an association ending or switching (SPEC §3.4) ----------------------------------


@transaction.atomic
def vouchers_recover_all(*, actor, association: Association, reason: str = "") -> list[Voucher]:
    """Recover every unused voucher ``association.partner`` issued to ``association.customer``
    back into the partner's voucher quota, expired ones included. Called by the request flow
    when an association ends, inside its transaction; works standalone too. One operation
    record for the lot; none when there was nothing to recover."""
    partner, customer = _lock(association.partner_id, association.customer_id)
    vouchers = list(
        Voucher.objects.select_for_update()
        .filter(partner=partner, customer=customer, status=Voucher.Status.UNUSED)
        .order_by("pk")
    )
    if not vouchers:
        return []
    total = sum((v.amount for v in vouchers), Decimal("0.00"))
    quota_before = partner.voucher_quota
    _check_fits(quota_before + total)
    now = timezone.now()
    Voucher.objects.filter(pk__in=[v.pk for v in vouchers]).update(status=Voucher.Status.RECOVERED, recovered_at=now)
    for voucher in vouchers:
        voucher.status, voucher.recovered_at = Voucher.Status.RECOVERED, now
    partner.voucher_quota = quota_before + total
    partner.save(update_fields=["voucher_quota"])
    record(
        event=Event.VOUCHERS_RECOVERED,
        actor=actor,
        partner=partner,
        customer=customer,
        association=association,
        reason=reason,
        before={"voucher_quota": str(quota_before)},
        after={"voucher_quota": str(partner.voucher_quota), "amount": str(total), "vouchers": [v.pk for v in vouchers]},
    )
    _sync(association, partner, customer)
    return vouchers


@transaction.atomic
def balance_return_on_end(*, actor, association: Association, reason: str = "") -> LedgerEntry | None:
    """Return the customer's whole partner-allocated balance to ``association.partner``
    (ledger kind "returned on end/switch"). Called by the request flow when a reseller
    association ends or switches to referral, inside its transaction (whatever the
    association's state is by then); works standalone too. None when the balance is zero."""
    partner, customer = _lock(association.partner_id, association.customer_id)
    amount = customer.allocated_balance
    if amount <= 0:
        return None
    before = {"partner_balance": str(partner.balance), "customer_balance": str(amount)}
    _check_fits(partner.balance + amount)
    partner.balance += amount
    customer.allocated_balance = Decimal("0.00")
    partner.save(update_fields=["balance"])
    customer.save(update_fields=["allocated_balance"])
    entry = _ledger(
        partner=partner, customer=customer, kind=LedgerEntry.Kind.RETURNED_ON_END, amount=amount, actor=actor, key=None
    )
    record(
        event=Event.FUNDS_RETURNED,
        actor=actor,
        partner=partner,
        customer=customer,
        association=association,
        reason=reason,
        before=before,
        after={
            "partner_balance": str(partner.balance),
            "customer_balance": str(customer.allocated_balance),
            "amount": str(amount),
            "ledger_entry": entry.pk,
        },
    )
    _sync(association, partner, customer)
    return entry


# Operators (Django admin) ------------------------------------------------------------------


@transaction.atomic
def partner_top_up(*, actor, partner: Partner, amount: Decimal, idempotency_key=None, reason: str = "") -> LedgerEntry:
    """The vendor adds money to a partner's balance."""
    _check_amount(amount)
    locked, _none = _lock(partner.pk)
    key = _key(locked, idempotency_key)
    if replay := _replayed(LedgerEntry, key, kind=LedgerEntry.Kind.TOP_UP, partner_id=locked.pk):
        return replay
    before = locked.balance
    _check_fits(before + amount)
    locked.balance = before + amount
    locked.save(update_fields=["balance"])
    entry = _ledger(partner=locked, customer=None, kind=LedgerEntry.Kind.TOP_UP, amount=amount, actor=actor, key=key)
    record(
        event=Event.PARTNER_TOPPED_UP,
        actor=actor,
        partner=locked,
        reason=reason,
        before={"partner_balance": str(before)},
        after={"partner_balance": str(locked.balance), "amount": str(amount), "ledger_entry": entry.pk},
    )
    partner.balance = locked.balance
    return entry


@transaction.atomic
def voucher_quota_top_up(
    *, actor, partner: Partner, amount: Decimal, idempotency_key=None, reason: str = ""
) -> LedgerEntry:
    """The vendor adds to a partner's voucher quota. The ledger row's partner balance is the
    (unchanged) money balance; the quota after it is in the operation record."""
    _check_amount(amount)
    locked, _none = _lock(partner.pk)
    key = _key(locked, idempotency_key)
    if replay := _replayed(LedgerEntry, key, kind=LedgerEntry.Kind.VOUCHER_QUOTA_TOP_UP, partner_id=locked.pk):
        return replay
    before = locked.voucher_quota
    _check_fits(before + amount)
    locked.voucher_quota = before + amount
    locked.save(update_fields=["voucher_quota"])
    entry = _ledger(
        partner=locked, customer=None, kind=LedgerEntry.Kind.VOUCHER_QUOTA_TOP_UP, amount=amount, actor=actor, key=key
    )
    record(
        event=Event.VOUCHER_QUOTA_TOPPED_UP,
        actor=actor,
        partner=locked,
        reason=reason,
        before={"voucher_quota": str(before)},
        after={"voucher_quota": str(locked.voucher_quota), "amount": str(amount), "ledger_entry": entry.pk},
    )
    partner.voucher_quota = locked.voucher_quota
    return entry


# Allocation and recovery (R11) -------------------------------------------------------------


def _move(*, actor, association: Association, amount: Decimal, kind: str, idempotency_key, reason: str):
    """Allocation (partner → customer) or recovery (customer → partner), under the locks."""
    _check_amount(amount)
    partner, customer = _lock(association.partner_id, association.customer_id)
    key = _key(partner, idempotency_key)
    if replay := _replayed(LedgerEntry, key, kind=kind, customer_id=customer.pk):
        return replay
    # Re-read under the customer lock: a switch or unbind that committed meanwhile is seen.
    current = Association.objects.get(pk=association.pk)
    refusal = funds_refusal(current)
    if refusal:
        raise ValidationError(refusal, code="refused")
    before = {"partner_balance": str(partner.balance), "customer_balance": str(customer.allocated_balance)}
    if kind == LedgerEntry.Kind.ALLOCATION:
        if amount > partner.balance:
            raise ValidationError(
                _("Your balance of %(balance)s is not enough to allocate %(amount)s."),
                params={"balance": format_amount(partner.balance), "amount": format_amount(amount)},
                code="insufficient",
            )
        _check_fits(customer.allocated_balance + amount)
        partner.balance -= amount
        customer.allocated_balance += amount
        event = Event.FUNDS_ALLOCATED
    else:
        if amount > customer.allocated_balance:
            raise ValidationError(
                _("The customer's allocated balance of %(balance)s is less than %(amount)s."),
                params={"balance": format_amount(customer.allocated_balance), "amount": format_amount(amount)},
                code="insufficient",
            )
        _check_fits(partner.balance + amount)
        partner.balance += amount
        customer.allocated_balance -= amount
        event = Event.FUNDS_RECOVERED
    partner.save(update_fields=["balance"])
    customer.save(update_fields=["allocated_balance"])
    entry = _ledger(partner=partner, customer=customer, kind=kind, amount=amount, actor=actor, key=key)
    record(
        event=event,
        actor=actor,
        partner=partner,
        customer=customer,
        association=current,
        reason=reason,
        before=before,
        after={
            "partner_balance": str(partner.balance),
            "customer_balance": str(customer.allocated_balance),
            "amount": str(amount),
            "ledger_entry": entry.pk,
        },
    )
    _sync(association, partner, customer)
    return entry


@transaction.atomic
def funds_allocate(
    *, actor, association: Association, amount: Decimal, idempotency_key=None, reason: str = ""
) -> LedgerEntry:
    """Move ``amount`` from the partner's balance to the reseller customer's allocated
    balance (拨款). Refused for referral customers and beyond the partner's balance."""
    return _move(
        actor=actor, association=association, amount=amount, kind=LedgerEntry.Kind.ALLOCATION,
        idempotency_key=idempotency_key, reason=reason,
    )


@transaction.atomic
def funds_recover(
    *, actor, association: Association, amount: Decimal, idempotency_key=None, reason: str = ""
) -> LedgerEntry:
    """Move ``amount`` from the reseller customer's allocated balance back to the partner
    (回收). Refused for referral customers and beyond the customer's allocated balance."""
    return _move(
        actor=actor, association=association, amount=amount, kind=LedgerEntry.Kind.RECOVERY,
        idempotency_key=idempotency_key, reason=reason,
    )


# Vouchers (R13) ----------------------------------------------------------------------------


@transaction.atomic
def voucher_issue(
    *, actor, association: Association, amount: Decimal, expires_at, idempotency_key=None, reason: str = ""
) -> Voucher:
    """Issue a voucher to an associated customer (either type) from the partner's quota."""
    _check_amount(amount)
    partner, customer = _lock(association.partner_id, association.customer_id)
    key = _key(partner, idempotency_key)
    if replay := _replayed(Voucher, key, customer_id=customer.pk):
        return replay
    current = Association.objects.get(pk=association.pk)
    if not current.is_active:
        raise ValidationError(_("This customer is no longer associated with your organization."), code="refused")
    if expires_at <= timezone.now():
        raise ValidationError(_("Choose an expiry date in the future."), code="expiry")
    if amount > partner.voucher_quota:
        raise ValidationError(
            _("Your voucher quota of %(quota)s is not enough to issue %(amount)s."),
            params={"quota": format_amount(partner.voucher_quota), "amount": format_amount(amount)},
            code="insufficient",
        )
    quota_before = partner.voucher_quota
    partner.voucher_quota -= amount
    partner.save(update_fields=["voucher_quota"])
    voucher = Voucher.objects.create(
        partner=partner, customer=customer, amount=amount, expires_at=expires_at, issued_by=actor, idempotency_key=key
    )
    voucher.replayed = False
    record(
        event=Event.VOUCHER_ISSUED,
        actor=actor,
        partner=partner,
        customer=customer,
        association=current,
        reason=reason,
        before={"voucher_quota": str(quota_before)},
        after={
            "voucher_quota": str(partner.voucher_quota),
            "voucher": voucher.pk,
            "amount": str(amount),
            "expires_at": expires_at.isoformat(),
        },
    )
    _sync(association, partner, customer)
    return voucher


@transaction.atomic
def voucher_recover(*, actor, voucher: Voucher, reason: str = "") -> Voucher:
    """Take one unused voucher back into its partner's voucher quota (expired ones too)."""
    partner, customer = _lock(voucher.partner_id, voucher.customer_id)
    locked = Voucher.objects.select_for_update().get(pk=voucher.pk)
    if locked.status == Voucher.Status.RECOVERED:
        raise ValidationError(_("This voucher has already been recovered."), code="recovered")
    if locked.status != Voucher.Status.UNUSED:
        raise ValidationError(_("This voucher has been used and cannot be recovered."), code="used")
    quota_before = partner.voucher_quota
    _check_fits(quota_before + locked.amount)
    partner.voucher_quota = quota_before + locked.amount
    partner.save(update_fields=["voucher_quota"])
    locked.status, locked.recovered_at = Voucher.Status.RECOVERED, timezone.now()
    locked.save(update_fields=["status", "recovered_at"])
    locked.partner, locked.customer = partner, customer
    record(
        event=Event.VOUCHER_RECOVERED,
        actor=actor,
        partner=partner,
        customer=customer,
        association=_active_association(partner, customer),
        reason=reason,
        before={"voucher_quota": str(quota_before), "status": Voucher.Status.UNUSED},
        after={"voucher_quota": str(partner.voucher_quota), "status": locked.status, "voucher": locked.pk},
    )
    return locked
