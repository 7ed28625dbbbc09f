"""Amounts as people read them: two decimals, the user's language's thousands separator and
decimal mark (Django's own number formatting), and the currency code."""
from decimal import Decimal, InvalidOperation

from django import template
from django.utils import formats
from django.utils.translation import gettext

register = template.Library()

DEFAULT_CURRENCY = "USD"


@register.filter
def money(value, currency=DEFAULT_CURRENCY):
    """``{{ amount|money:partner.currency }}`` → "USD 1,234.50" ("USD 1,234.50" in Chinese
    too; the order is the translation's). Empty for no amount."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return value
    number = formats.number_format(amount, decimal_pos=2, use_l10n=True, force_grouping=True)
    return gettext("%(currency)s %(amount)s") % {"currency": currency or DEFAULT_CURRENCY, "amount": number}


@register.filter
def grouped(value):
    """A whole number with the language's thousands separator."""
    if value is None or value == "":
        return ""
    return formats.number_format(value, use_l10n=True, force_grouping=True)
