"""Customer management pages of the partner portal."""
from django.contrib import messages
from django.db.models import Q
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from customers.forms import CustomerFilterForm
from customers.funds_selectors import customer_funds_for_member
from customers.models import Association, Customer
from customers.requests import request_expire_due
from customers.selectors import (
    annotate_pending_request,
    customer_for_member,
    customer_list_listing,
    customer_list_managers,
    customer_list_rows,
    listed_association,
    shown_manager,
)
from partnercenter.access import member_permission_required
from partnercenter.pagination import InvalidCursor, KeysetPaginator, bounded_count


def list_filter_form(request) -> tuple[str, CustomerFilterForm]:
    """The customer list's tab and filter form, read the same way by the list and its export."""
    user = request.user
    tab = "resellers" if request.GET.get("tab") == "resellers" and user.partner.is_distributor else "mine"
    return tab, CustomerFilterForm(request.GET or None, managers=customer_list_managers(user))


def list_filters(form: CustomerFilterForm) -> dict | None:
    if not form.is_bound:
        return {}
    return form.cleaned_data if form.is_valid() else None


@require_GET
@member_permission_required("customers.view_customer")
def customer_list(request):
    user = request.user
    tab, form = list_filter_form(request)
    rows, ordering = customer_list_rows(user, tab=tab, filters=list_filters(form))
    # The open request is shown on each row; counting needs no join on it (at most one per row).
    listing = customer_list_listing(annotate_pending_request(rows), tab=tab)
    scope = f"customers:{user.partner_id}:{tab}:{request.GET.get('q', '')}:{request.GET.get('type', '')}:" \
            f"{request.GET.get('status', '')}:{request.GET.get('manager', '')}:{request.GET.get('pending', '')}:" \
            f"{','.join(ordering)}"
    paginator = KeysetPaginator(listing, ordering, scope=scope, row=listed_association)
    try:
        page = paginator.page(request.GET.get("cursor") or None)
    except InvalidCursor:
        messages.error(request, _("That page link is no longer valid; showing the first page."))
        page = paginator.page(None)
    total, estimate = bounded_count(rows, page=page)
    query = request.GET.copy()
    query.pop("cursor", None)
    return render(
        request,
        "customers/customer_list.html",
        {
            "form": form,
            "page": page,
            "tab": tab,
            "total": total,
            "total_is_estimate": estimate,
            "base_query": query.urlencode(),
        },
    )


@require_GET
@member_permission_required("customers.view_customer")
def customer_detail(request, pk):
    user = request.user
    customer = customer_for_member(user, pk)
    # Settle the overdue request of the current association before the page shows it.
    current = Association.objects.filter(customer=customer, status=Association.Status.ACTIVE).first()
    if current is not None and request_expire_due(association=current):
        customer = customer_for_member(user, pk)
    associations = list(
        Association.objects.filter(customer=customer).select_related("partner").order_by("-started_at")
    )
    current = next((a for a in associations if a.is_active), None)
    own = current is not None and current.partner_id == user.partner_id
    # History of other partners is not this partner's business: show only its own rows.
    history = [a for a in associations if a.partner_id in (user.partner_id, current and current.partner_id)]
    return render(
        request,
        "customers/customer_detail.html",
        {
            "customer": customer,
            "manager": shown_manager(user, customer),
            "association": current,
            "own": own,
            "history": history,
            "unexpired_reserved_instances": customer.reserved_instances.filter(
                Q(expires_at__gt=timezone.now())
            ).order_by("expires_at"),
            "sub_accounts": Customer.objects.filter(enterprise_master=customer).order_by("account_name")
            if customer.enterprise_role == Customer.EnterpriseRole.MASTER
            else [],
            **customer_funds_for_member(user=user, customer=customer),
        },
    )
