"""Account Center pages, seen by the customer account owner."""
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from customers.controls.selectors import controls_summary
from customers.funds.rows import account_center_funds_rows_context
from customers.funds.selectors import account_center_vouchers
from customers.home.selectors import VOUCHER_WARNING, account_summary
from customers.models import Association, Customer
from customers.requests.services import account_center_settled
from partnercenter.access import customer_required


def needs_top_up(customer: Customer, association: Association | None) -> bool:
    """After an association has ended, until the customer has money of their own to spend:
    the e-mail of the unbind says to top up, and so does the page. (A payment method is not
    held here; a spendable balance is what counts.)"""
    if association is not None:
        return False
    spendable = (0 if customer.cash_withdraw_only else customer.cash_balance) + customer.allocated_balance
    return spendable <= 0 and Association.objects.filter(customer=customer, status=Association.Status.ENDED).exists()


@require_GET
@customer_required
def my_partner(request):
    customer = request.user.customer
    now = timezone.now()
    # An overdue request is settled before the page shows it (a dissociation approved now
    # ends the association), so it never looks pending with its deadline passed.
    association, overview = account_center_settled(customer, now)
    vouchers = account_center_vouchers(customer=customer, expiring_within=VOUCHER_WARNING, now=now)
    return render(
        request,
        "account_center/my_partner.html",
        {
            "customer": customer,
            "association": association,
            "request_overview": overview,
            "summary": account_summary(requests=overview, vouchers=vouchers, now=now),
            "currency": association.partner.currency if association else "",
            "needs_top_up": needs_top_up(customer, association),
            "funds_vouchers": vouchers.latest,
            "funds_row_context": account_center_funds_rows_context(request),
            "controls_summary": controls_summary(customer),
        },
    )
