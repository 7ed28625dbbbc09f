"""The customer's operation log in the Account Center (SPEC R27)."""
from django.shortcuts import render
from django.views.decorators.http import require_GET

from audit.rows import account_center_record_rows_context
from audit.selectors import records_of_customer
from audit.views import ORDERING
from partnercenter.access import customer_required
from partnercenter.pagination import list_page


@require_GET
@customer_required
def my_records(request):
    customer = request.user.customer
    qs = records_of_customer(customer)
    listed = list_page(
        request,
        queryset=qs,
        listing=qs.select_related("partner"),
        ordering=ORDERING,
        scope=f"account_center:records:{customer.pk}",
    )
    context = listed.context(customer=customer, row_context=account_center_record_rows_context(request))
    return render(request, "audit/account_center_records.html", context)
