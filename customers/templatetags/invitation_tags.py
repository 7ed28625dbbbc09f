"""``{% pending_invitations customer %}``: the Account Center's list of invitations waiting
for the customer, so the My partner page needs no change to its view."""
from django import template

from customers.invitations.selectors import open_invitations_for_customer
from customers.invitations.services import invitation_path

register = template.Library()


@register.inclusion_tag("account_center/invitations/_pending.html")
def pending_invitations(customer):
    return {"pending": [(i, invitation_path(i)) for i in open_invitations_for_customer(customer)[:20]]}
