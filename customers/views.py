"""Customer management pages of the partner portal."""
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from customers.controls.selectors import customer_controls_context
from customers.forms import CustomerFilterForm
from customers.funds.rows import funds_rows_context
from customers.funds.selectors import customer_funds_for_member
from customers.models import Customer
from customers.requests.services import customer_page_settled
from customers.rows import customer_rows_context
from customers.selectors import (
    CONTAINS_MIN_LENGTH,
    annotate_pending_request,
    customer_list_listing,
    customer_list_managers,
    customer_list_rows,
    listed_association,
    search_by_prefix,
    shown_manager,
)
from partnercenter.access import member_permission_required
from partnercenter.pagination import filter_data, form_filters, list_page


def list_filter_form(request) -> tuple[str, CustomerFilterForm]:
    """The customer list's tab and filter form, read the same way by the list and its export."""
    user = request.user
    tab = "resellers" if request.GET.get("tab") == "resellers" and user.partner.is_distributor else "mine"
    return tab, CustomerFilterForm(filter_data(request), managers=customer_list_managers(user))


def list_filters(form: CustomerFilterForm) -> dict | None:
    return form_filters(form)


@require_GET
@member_permission_required("customers.view_customer")
def customer_list(request):
    user = request.user
    tab, form = list_filter_form(request)
    filters = list_filters(form)
    rows, ordering = customer_list_rows(user, tab=tab, filters=filters)
    # The open request is shown on each row; counting needs no join on it (at most one per row).
    listing = customer_list_listing(annotate_pending_request(rows), tab=tab)
    listed = list_page(
        request,
        queryset=rows,
        listing=listing,
        ordering=ordering,
        scope=f"customers:{user.partner_id}:{tab}",
        form=form,
        row=listed_association,
    )
    # A term too short to search by "contains" is searched by prefix, and the page says so.
    term = ((filters or {}).get("q") or "").strip()
    context = listed.context(
        tab=tab,
        row_context=customer_rows_context(request, tab=tab),
        prefix_term=term if search_by_prefix(term) else "",
        contains_min_length=CONTAINS_MIN_LENGTH,
    )
    return render(request, "customers/customer_list.html", context)


@require_GET
@member_permission_required("customers.view_customer")
def customer_detail(request, pk):
    user = request.user
    now = timezone.now()
    # The overdue request of the current association is settled before the page shows it.
    page, overview = customer_page_settled(user, pk, now)
    current = page.current
    customer = page.customer
    own = current is not None and current.partner_id == user.partner_id
    # History of other partners is not this partner's business: show only its own rows.
    history = [a for a in page.associations if a.partner_id in (user.partner_id, current and current.partner_id)]
    return render(
        request,
        "customers/customer_detail.html",
        {
            "customer": customer,
            "manager": shown_manager(user, customer),
            "association": current,
            "request_overview": overview,
            "own": own,
            "history": history,
            "row_context": customer_rows_context(request),
            "unexpired_reserved_instances": page.unexpired_reserved_instances,
            "sub_accounts": Customer.objects.filter(enterprise_master=customer).order_by("account_name")
            if customer.enterprise_role == Customer.EnterpriseRole.MASTER
            else [],
            **customer_funds_for_member(user=user, customer=customer),
            "funds_row_context": funds_rows_context(
                request, currency=user.partner.currency, recover=own and user.has_perm("customers.issue_vouchers")
            ),
            **customer_controls_context(user, customer, current),
        },
    )
