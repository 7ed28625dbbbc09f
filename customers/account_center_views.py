"""Account Center pages, seen by the customer account owner."""
from django.shortcuts import render
from django.views.decorators.http import require_GET

from customers.dashboard import account_summary
from customers.funds_selectors import customer_funds_for_account_center
from customers.models import Association
from partnercenter.access import customer_required


@require_GET
@customer_required
def my_partner(request):
    customer = request.user.customer
    association = (
        Association.objects.filter(customer=customer, status=Association.Status.ACTIVE)
        .select_related("partner")
        .first()
    )
    return render(
        request,
        "account_center/my_partner.html",
        {
            "customer": customer,
            "association": association,
            "summary": account_summary(customer),
            "currency": association.partner.currency if association else "",
            **customer_funds_for_account_center(customer=customer),
        },
    )
