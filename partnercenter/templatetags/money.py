"""Amounts as people read them: two decimals, the user's language's thousands separator and
decimal mark (Django's own number formatting), and the currency code.

``{{ amount|money:currency }}`` looks the language's format up on every call; a list writes
its amounts with a :class:`MoneyFormat` made once per page (its row context), which looks it
up once and writes the same text."""
from decimal import Decimal, InvalidOperation

from django import template
from django.utils import formats, numberformat
from django.utils.translation import gettext

register = template.Library()

DEFAULT_CURRENCY = "USD"


class MoneyFormat:
    """``money(value)`` for many values in one language: the translated "currency amount"
    pattern and the language's separators are read when it is made (in the active language),
    not per value. ``format(value)`` is ``value|money:currency``; ``format(value, other)`` is
    ``value|money:other``."""

    __slots__ = ("currency", "decimal", "grouping", "pattern", "separator")

    def __init__(self, currency: str = DEFAULT_CURRENCY):
        self.currency = currency or DEFAULT_CURRENCY
        self.pattern = gettext("%(currency)s %(amount)s")
        self.separator, self.grouping = _separators()
        self.decimal = formats.get_format("DECIMAL_SEPARATOR")

    def __call__(self, value, currency: str | None = None):
        if value is None or value == "":
            return ""
        try:
            amount = value if type(value) is Decimal else Decimal(value)
        except (InvalidOperation, TypeError, ValueError):
            return value
        return self.pattern % {"currency": currency or self.currency, "amount": self.number(amount)}

    def number(self, amount: Decimal) -> str:
        """``amount`` with two decimals and grouped thousands, as ``numberformat.format``
        writes it (the decimals cut, not rounded; under a cent is 0.00, unsigned), without its
        general path where the grouping is the common one of three."""
        if self.grouping != 3 or not amount.is_finite() or _long(amount):
            return numberformat.format(
                amount, self.decimal, decimal_pos=2, grouping=self.grouping, thousand_sep=self.separator,
                force_grouping=True,
            )
        text = f"{amount:f}"
        sign = ""
        if text[0] == "-":
            sign, text = "-", text[1:]
        whole, _, cents = text.partition(".")
        cents = cents[:2].ljust(2, "0")
        if sign and whole == "0" and cents == "00":
            sign = ""
        whole = f"{int(whole):,}"
        if self.separator != ",":
            whole = whole.replace(",", self.separator)
        return f"{sign}{whole}{self.decimal}{cents}"


def _long(amount: Decimal) -> bool:
    """Whether ``numberformat.format`` writes ``amount`` in scientific notation."""
    _, digits, exponent = amount.as_tuple()
    return abs(exponent) + len(digits) > 200


@register.filter
def money(value, currency=DEFAULT_CURRENCY):
    """``{{ amount|money:partner.currency }}`` → "USD 1,234.50" ("USD 1,234.50" in Chinese
    too; the order is the translation's). Empty for no amount."""
    return MoneyFormat(currency)(value)


@register.filter
def grouped(value):
    """A whole number with the language's thousands separator."""
    if value is None or value == "":
        return ""
    return _grouped(value)


def _separators() -> tuple[str, int]:
    """The language's thousands separator and grouping; a language whose format has no
    thousands separator (Django's Chinese format) gets commas every three digits, as amounts in
    Chinese finance are written (1,234,567.50)."""
    separator, grouping = formats.get_format("THOUSAND_SEPARATOR"), formats.get_format("NUMBER_GROUPING")
    if not separator:
        separator, grouping = ",", 3
    return separator, grouping


def _grouped(value, decimal_pos=None) -> str:
    """The language's separators (:func:`_separators`)."""
    separator, grouping = _separators()
    return numberformat.format(
        value,
        formats.get_format("DECIMAL_SEPARATOR"),
        decimal_pos=decimal_pos,
        grouping=grouping,
        thousand_sep=separator,
        force_grouping=True,
    )
