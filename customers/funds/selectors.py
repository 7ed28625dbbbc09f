"""Scoped reads for funds and vouchers: a partner sees only the ledger rows and vouchers it
created, narrowed to a customer manager's customers; a customer sees its own."""
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from customers.models import Customer, LedgerEntry, Voucher
from customers.selectors import narrowed_to_managers

# The customer page shows the latest rows; older ones are in the operation records.
DETAIL_ROWS = 20
# What the customer page's and getCustomer's ledger and vouchers show of each row.
LEDGER_SHOWN = ("customer_id", "kind", "amount", "actor_name", "partner_balance_after", "customer_balance_after",
                "created_at")
VOUCHER_SHOWN = ("customer_id", "amount", "expires_at", "status", "issued_at", "recovered_at")


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


def customer_funds_for_member(*, user, customer: Customer) -> dict:
    """What the customer page (and the API's getCustomer) shows of funds: this partner's
    latest ledger rows and vouchers for the customer, with the columns they show, each
    voucher given ``customer`` rather than joining it again."""
    ledger = (
        LedgerEntry.objects.filter(partner=user.partner, customer=customer)
        .only(*LEDGER_SHOWN)
        .order_by("-id")[:DETAIL_ROWS]
    )
    vouchers = list(
        Voucher.objects.filter(partner=user.partner, customer=customer)
        .only(*VOUCHER_SHOWN)
        .order_by("-id")[:DETAIL_ROWS]
    )
    for voucher in vouchers:
        voucher.customer = customer
    return {"funds_ledger": list(ledger), "funds_vouchers": vouchers}


def customer_funds_for_account_center(*, customer: Customer) -> dict:
    """The customer's own vouchers, from whichever partner issued them."""
    vouchers = Voucher.objects.filter(customer=customer).select_related("partner").order_by("-id")[:DETAIL_ROWS]
    return {"funds_vouchers": list(vouchers)}


@dataclass
class AccountCenterVouchers:
    """The Account Center home's vouchers, read in one statement: the ``latest`` the funds
    table lists and every ``unused`` one that has not expired (soonest first), for the total."""

    latest: list[Voucher]
    unused: list[Voucher]


def account_center_vouchers(*, customer: Customer, now: datetime | None = None) -> AccountCenterVouchers:
    """The latest :data:`DETAIL_ROWS` of the customer's vouchers (as
    :func:`customer_funds_for_account_center`) ORed with its unused, unexpired ones."""
    now = now or timezone.now()
    mine = Voucher.objects.filter(customer=customer)
    newest = mine.order_by("-id").values("pk")[:DETAIL_ROWS]
    spendable = Q(status=Voucher.Status.UNUSED, expires_at__gt=now)
    rows = list(mine.filter(Q(pk__in=newest) | spendable).select_related("partner").order_by("-id"))
    unused = [v for v in rows if v.status == Voucher.Status.UNUSED and v.expires_at > now]
    return AccountCenterVouchers(latest=rows[:DETAIL_ROWS], unused=sorted(unused, key=lambda v: (v.expires_at, v.pk)))
