"""Money as people read and type it: shown with two places and grouped thousands in the active
language (1,000.00), typed as plain decimal (digits, one decimal point, two places at most)."""
import re
from decimal import Decimal

from django.utils.formats import number_format

# What an amount may look like when typed: no exponent (1e3), plus sign, inner spaces,
# grouping or non-ASCII digits, all of which Decimal() would otherwise take. A minus sign
# passes so that "-5" gets the "greater than zero" message of the amount check.
PLAIN_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def format_amount(value: Decimal) -> str:
    """``value`` with two decimal places and grouped thousands, e.g. "1,000.00"."""
    return number_format(Decimal(value), decimal_pos=2, use_l10n=True, force_grouping=True)
