"""What every row of the vouchers and ledger tables shares, worked out once per page for their
Jinja2 templates (``templates/jinja2/customers/voucher_rows.jinja`` and the tables of the
customer page and the Account Center's partner page): translated labels and choice labels, the
recover form's ``row_url``, whether the member may recover vouchers here, and ``as_money`` and
``as_moment``, the ``money`` and ``moment`` filters with the language's format and the time zone
looked up once for the page (``partnercenter.templatetags.money.MoneyFormat``, ``moments.MomentFormat``)."""
from django.utils.translation import gettext
from markupsafe import Markup

from customers.models import LedgerEntry, Voucher
from partnercenter.jinja import row_url
from partnercenter.templatetags.moments import MomentFormat
from partnercenter.templatetags.money import MoneyFormat

# What ``voucher_rows.jinja`` reads of a voucher and its customer (``QuerySet.only``).
VOUCHER_ROW_FIELDS = (
    "id", "amount", "expires_at", "status", "issued_at", "recovered_at", "customer__name", "customer__account_name",
)


def funds_rows_context(request, *, currency: str = "", recover: bool = False) -> dict:
    """``currency`` is the partner's (the voucher list and the customer page); ``recover``
    whether each unused voucher gets its *Recover* button (the member's permission, and on the
    customer page that the customer is the partner's own)."""
    return {
        "currency": currency,
        "as_money": MoneyFormat(currency),
        "as_moment": MomentFormat(),
        "recover": recover,
        "next_url": request.get_full_path(),
        "recover_url": row_url("customers:voucher_recover"),
        "statuses": {value: str(label) for value, label in Voucher.Status.choices},
        "kinds": {value: str(label) for value, label in LedgerEntry.Kind.choices},
        "labels": {
            "expired": gettext("Expired"),
            "recover": gettext("Recover"),
            "recover_from": gettext("Recover the voucher of %(amount)s from %(name)s"),
        },
    }


def account_center_funds_rows_context(request) -> dict:
    """:func:`funds_rows_context` for the Account Center home, whose vouchers about to expire
    (``customers/expiring_voucher_rows.jinja``) are written by a sentence with a moment in it:
    the translation is template text, as ``{% blocktranslate %}`` takes it (its values are
    escaped when the row fills them in)."""
    context = funds_rows_context(request)
    # Markup, so that ``|format`` escapes the values it fills in and keeps the moment's markup.
    expiring = gettext("%(amount)s, valid until %(when)s (in %(left)s)")
    context["labels"]["expiring"] = Markup(expiring)  # noqa: S704 - a translation, as blocktranslate takes it
    return context
