"""``{% customer_requests association %}`` on the partner's customer page and
``{% account_center_requests customer %}`` on the Account Center's My partner page: the pending
request with its deadline and the latest requests, so those pages need no change to their
views."""
from django import template

from customers.requests.selectors import active_association_for_customer, open_request_for, requests_for_customer

register = template.Library()

LATEST = 10


@register.inclusion_tag("customers/requests/_customer_requests.html", takes_context=True)
def customer_requests(context, association):
    latest = association.requests.select_related("requested_by").order_by("-created_at")[:LATEST]
    return {
        "perms": context.get("perms"),
        "association": association,
        "open_request": open_request_for(association),
        "latest": list(latest),
    }


@register.inclusion_tag("account_center/requests/_my_requests.html")
def account_center_requests(customer):
    association = active_association_for_customer(customer)
    return {
        "association": association,
        "open_request": open_request_for(association) if association is not None else None,
        "latest": list(requests_for_customer(customer).order_by("-created_at")[:LATEST]),
    }
