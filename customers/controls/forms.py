"""Forms of the reseller controls: freeze or unfreeze with a reason, a monthly budget, the
partner's control settings, usage posted by an operator."""
from django import forms
from django.utils.translation import gettext_lazy as _

from customers.controls.services import REASON_MAX_LENGTH, budget_amount_error
from customers.funds.forms import MoneyField
from customers.models import Batch
from organization.models import Partner


class FreezeForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=REASON_MAX_LENGTH,
        help_text=_("The customer sees it, and so does everyone who opens the customer's page."),
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Enter a reason.")},
    )


class BudgetField(MoneyField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Monthly budget"))
        super().__init__(**kwargs)
        self.widget.attrs.update({"min": "0.01"})

    def validate(self, value):
        super().validate(value)
        if value is not None:
            error = budget_amount_error(value)
            if error:
                raise forms.ValidationError(error, code="amount")


class BudgetForm(forms.Form):
    amount = BudgetField()
    reason = forms.CharField(label=_("Reason"), required=False, max_length=REASON_MAX_LENGTH,
                             widget=forms.Textarea(attrs={"rows": 2}))
    unfreeze = forms.BooleanField(
        label=_("Also unfreeze the account"), required=False,
        help_text=_("Lifts your organization's freeze of this account in the same step."),
    )

    def __init__(self, *args, may_unfreeze: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not may_unfreeze:
            del self.fields["unfreeze"]


class ControlsSettingsForm(forms.Form):
    """The partner's control settings; a distributor also ticks the resellers that may freeze
    and unfreeze their own customers."""

    start_frozen_until_budget = forms.BooleanField(
        label=_("New reseller customers start frozen until their first budget"), required=False,
        help_text=_("A customer that becomes your reseller customer is frozen until you set its first monthly budget."),
    )
    freeze_on_exhaustion = forms.BooleanField(
        label=_("Freeze on budget exhaustion"), required=False,
        help_text=_("Freeze a reseller customer automatically when its month-to-date spend reaches its budget."),
    )
    granted_resellers = forms.ModelMultipleChoiceField(
        label=_("Resellers that may freeze and unfreeze their own customers"), required=False,
        queryset=Partner.objects.none(), widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, partner: Partner, **kwargs):
        super().__init__(*args, **kwargs)
        if partner.is_distributor:
            self.fields["granted_resellers"].queryset = Partner.objects.filter(distributor=partner).order_by("name")
        else:
            del self.fields["granted_resellers"]


class UsageForm(forms.Form):
    """An operator posts a customer's usage (admin)."""

    amount = MoneyField(label=_("Usage"))
    reference = forms.CharField(label=_("Billing reference"), required=False, max_length=64,
                                help_text=_("The billing system's id of this usage: posting it twice counts once."))


class BatchForm(forms.Form):
    """A batch action on the customer list's ticked rows (``customers``) or on every row
    matching its filter (``all_matching`` with the list's query string ``query``)."""

    action = forms.ChoiceField(label=_("Action"), choices=Batch.Action.choices)
    customers = forms.TypedMultipleChoiceField(required=False, coerce=int, widget=forms.MultipleHiddenInput)
    all_matching = forms.BooleanField(required=False, widget=forms.HiddenInput)
    query = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=REASON_MAX_LENGTH,
                             widget=forms.Textarea(attrs={"rows": 2}))
    amount = BudgetField(required=False)
    manager = forms.TypedChoiceField(label=_("Customer manager"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, managers=(), **kwargs):
        super().__init__(*args, **kwargs)
        # Any id: whether it is the member's to change is each row's own check.
        self.fields["customers"].valid_value = lambda value: True
        self.fields["manager"].choices = [("", _("No manager"))] + list(managers)
