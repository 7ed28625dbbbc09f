"""``{% unfreeze_url as url %}``: the Unfreeze page of the page's ``association`` when the
signed-in member may lift its freeze, else "" (the account check's advice links to it)."""
from django import template
from django.urls import reverse

from customers.controls.selectors import granted_for
from customers.controls.services import FREEZE_PERMISSION, unfreeze_refusal

register = template.Library()


@register.simple_tag(takes_context=True)
def unfreeze_url(context) -> str:
    request, association = context.get("request"), context.get("association")
    user = getattr(request, "user", None)
    if association is None or not getattr(user, "is_member", False) or not user.has_perm(FREEZE_PERMISSION):
        return ""
    if association.partner_id == user.partner_id and not granted_for(user):
        return ""
    if unfreeze_refusal(partner=user.partner, association=association, granted=granted_for(user)) is not None:
        return ""
    return reverse("customers:controls_unfreeze", args=[association.customer_id])
