"""``{% customer_requests association overview %}`` on the partner's customer page and
``{% account_center_requests association overview %}`` on the Account Center's My partner
page: the pending request with its deadline and the latest requests, as the view read them in
one statement (``customers.requests.selectors.request_overview``, after settling the overdue
ones)."""
from django import template
from django.utils import timezone

from customers.rows import account_center_request_rows_context, association_request_rows_context

register = template.Library()


@register.inclusion_tag("customers/requests/_customer_requests.html", takes_context=True)
def customer_requests(context, association, overview):
    return {
        "perms": context.get("perms"),
        "association": association,
        "open_request": overview.open_request(timezone.now()),
        "latest": overview.latest,
        "request": context.get("request"),
        "row_context": association_request_rows_context(),
    }


@register.inclusion_tag("account_center/requests/_my_requests.html", takes_context=True)
def account_center_requests(context, association, overview):
    return {
        "association": association,
        "open_request": overview.open_request(timezone.now()) if association is not None else None,
        "latest": overview.latest,
        "request": context.get("request"),
        "row_context": account_center_request_rows_context(),
    }
