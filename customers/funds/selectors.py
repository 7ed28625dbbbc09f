"""Scoped reads for funds and vouchers: a partner sees only the ledger rows and vouchers it
created, narrowed to a customer manager's customers; a customer sees its own."""
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Q, QuerySet, Subquery, Sum
from django.shortcuts import get_object_or_404
from django.utils import timezone

from customers.models import Customer, LedgerEntry, Voucher, voucher_expired
from customers.selectors import narrowed_to_managers
from partnercenter.pagination import ListedRow

# The customer page shows the latest rows; older ones are in the operation records.
DETAIL_ROWS = 20
# What the customer page's and getCustomer's ledger and vouchers show of each row, in the order
# of ShownLedgerEntry's and ShownVoucher's fields (the voucher's customer given, not read).
LEDGER_SHOWN = ("customer_id", "kind", "amount", "actor_name", "partner_balance_after", "customer_balance_after",
                "created_at")
VOUCHER_SHOWN = ("amount", "expires_at", "status", "issued_at", "recovered_at")


def vouchers_for(user) -> QuerySet[Voucher]:
    qs = Voucher.objects.filter(partner=user.partner)
    return narrowed_to_managers(qs, user)


def voucher_for_member(user, pk) -> Voucher:
    return get_object_or_404(vouchers_for(user).select_related("customer"), pk=pk)


def filter_vouchers(qs: QuerySet[Voucher], *, q: str = "", status: str = "") -> QuerySet[Voucher]:
    if q.strip():
        term = q.strip()
        qs = qs.filter(
            Q(customer__name__icontains=term)
            | Q(customer__email__icontains=term)
            | Q(customer__account_name__icontains=term)
        )
    now = timezone.now()
    if status == "expired":
        qs = qs.filter(status=Voucher.Status.UNUSED, expires_at__lte=now)
    elif status == Voucher.Status.UNUSED:
        qs = qs.filter(status=Voucher.Status.UNUSED, expires_at__gt=now)
    elif status:
        qs = qs.filter(status=status)
    return qs


@dataclass(slots=True)
class ShownLedgerEntry(ListedRow):
    """A ledger row as the customer page and getCustomer show it (:data:`LEDGER_SHOWN`), read
    as values, under ``LedgerEntry``'s names."""

    id: int
    customer_id: int
    kind: str
    amount: Decimal
    actor_name: str
    partner_balance_after: Decimal
    customer_balance_after: Decimal
    created_at: datetime


@dataclass(slots=True)
class ShownVoucher(ListedRow):
    """A voucher as the customer page and getCustomer show it (:data:`VOUCHER_SHOWN`, with the
    customer already read), read as values, under ``Voucher``'s names."""

    id: int
    customer: Customer
    amount: Decimal
    expires_at: datetime
    status: str
    issued_at: datetime
    recovered_at: datetime | None

    @property
    def customer_id(self) -> int:
        return self.customer.pk

    @property
    def is_expired(self) -> bool:
        return voucher_expired(self)


def customer_funds_for_member(*, user, customer: Customer) -> dict:
    """What the customer page (and the API's getCustomer) shows of funds: this partner's
    latest ledger rows and vouchers for the customer, with the columns they show, each
    voucher given ``customer`` rather than joining it again. Read as values
    (:class:`ShownLedgerEntry`, :class:`ShownVoucher`): a model per row, with its deferred
    fields, was most of the Python time of the two statements."""
    ledger = (
        LedgerEntry.objects.filter(partner=user.partner, customer=customer)
        .order_by("-id")
        .values_list("id", *LEDGER_SHOWN)[:DETAIL_ROWS]
    )
    vouchers = (
        Voucher.objects.filter(partner=user.partner, customer=customer)
        .order_by("-id")
        .values_list("id", *VOUCHER_SHOWN)[:DETAIL_ROWS]
    )
    return {
        "funds_ledger": [ShownLedgerEntry(*row) for row in ledger],
        "funds_vouchers": [ShownVoucher(row[0], customer, *row[1:]) for row in vouchers],
    }


def customer_funds_for_account_center(*, customer: Customer) -> dict:
    """The customer's own vouchers, from whichever partner issued them."""
    vouchers = Voucher.objects.filter(customer=customer).select_related("partner").order_by("-id")[:DETAIL_ROWS]
    return {"funds_vouchers": list(vouchers)}


@dataclass(slots=True)
class IssuingPartner:
    """What the Account Center shows of the partner that issued a voucher."""

    name: str
    currency: str


@dataclass(slots=True)
class AccountCenterVoucher(ListedRow):
    """A voucher as the Account Center home shows it, read as values (no ``Voucher`` and
    ``Partner`` rows made for it): what ``account_center_voucher_rows.jinja`` and
    ``expiring_voucher_rows.jinja`` read of a ``Voucher``, under the same names."""

    id: int
    amount: Decimal
    expires_at: datetime
    status: str
    partner: IssuingPartner

    @property
    def is_expired(self) -> bool:
        return voucher_expired(self)


@dataclass
class AccountCenterVouchers:
    """The Account Center home's vouchers, read in one statement: the ``latest`` the funds
    table lists, the unused ones that expire within ``expiring_within`` (soonest first), which
    the home warns of, and ``unused_total``, the sum of every unused one not yet expired."""

    latest: list[AccountCenterVoucher]
    expiring: list[AccountCenterVoucher]
    unused_total: Decimal


def account_center_vouchers(
    *, customer: Customer, expiring_within: timedelta, now: datetime | None = None
) -> AccountCenterVouchers:
    """The latest :data:`DETAIL_ROWS` of the customer's vouchers (as
    :func:`customer_funds_for_account_center`) ORed with its unused ones expiring within
    ``expiring_within``, each with the partner's name and currency (what the page shows) and the
    unused total summed by the database: a customer's unused vouchers can be many, and the page
    lists few of them. Read as values into :class:`AccountCenterVoucher` (one
    :class:`IssuingPartner` per partner): making a voucher and a partner model per row was a
    third of the function's time."""
    now = now or timezone.now()
    mine = Voucher.objects.filter(customer=customer)
    newest = mine.order_by("-id").values("pk")[:DETAIL_ROWS]
    spendable = Q(status=Voucher.Status.UNUSED, expires_at__gt=now)
    total = mine.filter(spendable).order_by().values("customer").annotate(total=Sum("amount")).values("total")
    values = list(
        mine.filter(Q(pk__in=newest) | (spendable & Q(expires_at__lte=now + expiring_within)))
        .annotate(unused_total=Subquery(total))
        .order_by("-id")
        .values_list("id", "amount", "expires_at", "status", "partner__name", "partner__currency", "unused_total")
    )
    partners: dict[tuple[str, str], IssuingPartner] = {}
    rows = []
    for pk, amount, expires_at, status, name, currency, _total in values:
        partner = partners.get((name, currency))
        if partner is None:
            partner = partners[name, currency] = IssuingPartner(name=name, currency=currency)
        rows.append(AccountCenterVoucher(id=pk, amount=amount, expires_at=expires_at, status=status, partner=partner))
    unused_total = values[0][-1] if rows else None
    expiring = [v for v in rows if v.status == Voucher.Status.UNUSED and now < v.expires_at <= now + expiring_within]
    return AccountCenterVouchers(
        latest=rows[:DETAIL_ROWS],
        expiring=sorted(expiring, key=lambda v: (v.expires_at, v.pk)),
        unused_total=unused_total or Decimal("0.00"),
    )
