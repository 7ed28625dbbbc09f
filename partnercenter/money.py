"""Money as people read and type it: shown with two places and grouped thousands in the active
language (1,000.00), typed as plain decimal (digits, one decimal point, two places at most)."""
import re
from decimal import Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext as _

# What an amount may look like when typed: no exponent (1e3), plus sign, inner spaces,
# grouping or non-ASCII digits, all of which Decimal() would otherwise take. A minus sign
# passes so that "-5" gets the "greater than zero" message of the amount check.
PLAIN_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def format_amount(value: Decimal) -> str:
    """``value`` with two decimal places and grouped thousands, e.g. "1,000.00"."""
    return number_format(Decimal(value), decimal_pos=2, use_l10n=True, force_grouping=True)


CENT = Decimal("0.01")


def positive_amount_error(amount, *, maximum: Decimal, too_big: str) -> str | None:
    """Why ``amount`` is not a finite amount greater than zero, of at most ``maximum`` and two
    decimal places, or None; ``too_big`` is the message for an amount over the maximum (with
    ``%(maximum)s``). The maximum is checked before the places: quantizing a huge number
    (1e400000) raises instead of answering."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        return _("Enter an amount as a number, for example 100.00.")
    if amount <= 0:
        return _("Enter an amount greater than zero.")
    if amount > maximum:
        return too_big % {"maximum": maximum}
    if amount != amount.quantize(CENT):
        return _("Enter an amount with at most two decimal places.")
    return None
