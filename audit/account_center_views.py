"""The customer's operation log in the Account Center (SPEC R27)."""
from django.contrib import messages
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from audit.selectors import records_of_customer
from audit.views import ORDERING
from partnercenter.access import customer_required
from partnercenter.pagination import InvalidCursor, KeysetPaginator, bounded_count


@require_GET
@customer_required
def my_records(request):
    customer = request.user.customer
    qs = records_of_customer(customer)
    paginator = KeysetPaginator(qs.select_related("partner"), ORDERING, scope=f"account_center:records:{customer.pk}")
    try:
        page = paginator.page(request.GET.get("cursor") or None)
    except InvalidCursor:
        messages.error(request, _("That page link is no longer valid; showing the first page."))
        page = paginator.page(None)
    total, estimate = bounded_count(qs, page=page)
    return render(
        request,
        "audit/account_center_records.html",
        {"customer": customer, "page": page, "total": total, "total_is_estimate": estimate, "base_query": ""},
    )
