"""Amounts as people read them: two decimals, the user's language's thousands separator and
decimal mark (Django's own number formatting), and the currency code."""
from decimal import Decimal, InvalidOperation

from django import template
from django.utils import formats, numberformat
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
    number = _grouped(amount, decimal_pos=2)
    return gettext("%(currency)s %(amount)s") % {"currency": currency or DEFAULT_CURRENCY, "amount": number}


@register.filter
def grouped(value):
    """A whole number with the language's thousands separator."""
    if value is None or value == "":
        return ""
    return _grouped(value)


def _grouped(value, decimal_pos=None) -> str:
    """The language's separators; a language whose format has no thousands separator
    (Django's Chinese format) gets commas every three digits, as amounts in Chinese finance
    are written (1,234,567.50)."""
    separator, grouping = formats.get_format("THOUSAND_SEPARATOR"), formats.get_format("NUMBER_GROUPING")
    if not separator:
        separator, grouping = ",", 3
    return numberformat.format(
        value,
        formats.get_format("DECIMAL_SEPARATOR"),
        decimal_pos=decimal_pos,
        grouping=grouping,
        thousand_sep=separator,
        force_grouping=True,
    )
