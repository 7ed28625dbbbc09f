"""Reads for the API, scoped like the portal's (customers.selectors)."""
from django.db.models import Exists, OuterRef

from api.models import ApiKey
from customers.models import Association, Customer
from customers.selectors import manager_scope


def customer_for_exchange(member, pk: int) -> Customer | None:
    """A customer the member's partner has had an association with, active or ended, so an
    ended one can be told apart from a stranger (another partner's customer is None, as in
    the portal's 404). Customer managers are limited to their customers."""
    qs = Customer.objects.filter(
        Exists(Association.objects.filter(customer=OuterRef("pk"), partner_id=member.partner_id)), pk=pk
    )
    scope = manager_scope(member)
    if scope is not None:
        qs = qs.filter(manager_id__in=scope)
    return qs.first()


def api_keys_for(member):
    return ApiKey.objects.filter(partner_id=member.partner_id).select_related("created_by", "revoked_by")
