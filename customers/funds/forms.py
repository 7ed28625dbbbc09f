"""Forms for allocating, recovering, issuing vouchers and topping up.

Each action form carries a one-time token (a hidden UUID created when the form is shown).
The service stores it with what it creates, so submitting the same form twice has one effect.
"""
import uuid
from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.funds.services import amount_error
from customers.models import Voucher
from partnercenter.money import PLAIN_DECIMAL
from partnercenter.widgets import use_fast_widgets

# Far enough for any real promotion, near enough that a typo like 9999 is caught.
VOUCHER_MAX_VALIDITY_DAYS = 5 * 366


def new_token() -> str:
    return uuid.uuid4().hex


class MoneyField(forms.DecimalField):
    """An amount typed as plain decimal (``partnercenter.money.PLAIN_DECIMAL``), two places at
    most: "1e3", "+5", "1,000" or full-width digits are refused rather than read as numbers."""

    def __init__(self, **kwargs):
        kwargs.setdefault("decimal_places", 2)
        error_messages = {
            "required": _("Enter an amount."),
            "invalid": _("Enter an amount as a number, for example 100.00."),
            "max_decimal_places": _("Enter an amount with at most two decimal places."),
            **kwargs.pop("error_messages", {}),
        }
        super().__init__(error_messages=error_messages, **kwargs)
        self.widget.attrs.update({"inputmode": "decimal"})

    def to_python(self, value):
        if value not in self.empty_values and not PLAIN_DECIMAL.fullmatch(str(value).strip()):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class AmountField(MoneyField):
    """A money amount: a number, two places at most, above zero, at most the configured
    maximum. Every way to get it wrong has its own message."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Amount"))
        super().__init__(**kwargs)
        self.widget.attrs.update({"min": "0.01"})

    def validate(self, value):
        super().validate(value)
        if value is not None:
            error = amount_error(value)
            if error:
                raise forms.ValidationError(error, code="amount")


class OneTimeForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        if not args and "data" not in kwargs:
            kwargs.setdefault("initial", {})["token"] = new_token()
        super().__init__(*args, **kwargs)

    def clean_token(self):
        try:
            return uuid.UUID(self.cleaned_data["token"]).hex
        except ValueError:
            # Reported against the whole form: the field is hidden, so an error on it would
            # not be seen.
            self.add_error(None, _("This form is out of date. Open it again and re-enter the values."))
            return None


class FundsForm(OneTimeForm):
    """Allocate (拨款) or recover (回收) an amount."""

    amount = AmountField()
    reason = forms.CharField(label=_("Note"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    field_order = ["amount", "reason"]


class VoucherIssueForm(OneTimeForm):
    amount = AmountField()
    expires_on = forms.DateField(
        label=_("Valid until"),
        help_text=_("The voucher can be used up to and including this day."),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Enter a date such as 2026-12-31.")},
    )
    reason = forms.CharField(label=_("Note"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    field_order = ["amount", "expires_on", "reason"]

    def clean_expires_on(self):
        day = self.cleaned_data["expires_on"]
        today = timezone.localdate()
        if day < today:
            raise forms.ValidationError(_("Choose today or a later day."), code="past")
        if day > today + timedelta(days=VOUCHER_MAX_VALIDITY_DAYS):
            raise forms.ValidationError(
                _("Choose a day at most %(years)s years ahead."), params={"years": VOUCHER_MAX_VALIDITY_DAYS // 366},
                code="too_far",
            )
        return day

    @property
    def expires_at(self) -> datetime:
        """The first moment after the chosen day, in the portal's time zone."""
        day = self.cleaned_data["expires_on"] + timedelta(days=1)
        return timezone.make_aware(datetime.combine(day, time.min))


class TopUpForm(OneTimeForm):
    """An operator tops up a partner's balance or voucher quota (Django admin)."""

    BALANCE = "balance"
    VOUCHER_QUOTA = "voucher_quota"

    target = forms.ChoiceField(
        label=_("Top up"),
        choices=[(BALANCE, _("Balance")), (VOUCHER_QUOTA, _("Voucher quota"))],
        widget=forms.RadioSelect,
        initial=BALANCE,
    )
    amount = AmountField()
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        help_text=_("For example the payment or contract this top-up is for."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    field_order = ["target", "amount", "reason"]


class VoucherFilterForm(forms.Form):
    """The voucher list's search and status filter; a bad value is a form error, never a
    server error."""

    STATUS_CHOICES = [
        ("", _("Any status")),
        (Voucher.Status.UNUSED, _("Unused")),
        ("expired", _("Expired")),
        (Voucher.Status.USED, _("Used")),
        (Voucher.Status.RECOVERED, _("Recovered")),
    ]

    q = forms.CharField(label=_("Customer"), required=False, max_length=100)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=STATUS_CHOICES)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = _("Name, e-mail or account")
        use_fast_widgets(self)
