"""Forms of the customer pages."""
from django import forms
from django.utils.translation import gettext_lazy as _

from customers.models import Association
from partnercenter.widgets import use_fast_widgets


class CustomerFilterForm(forms.Form):
    """The customer list's search, filters and sort. Every field is optional; a bad value is a
    form error shown above the list, never a server error."""

    STATUS_CHOICES = [
        ("", _("Any status")),
        ("normal", _("Normal")),
        ("frozen", _("Frozen")),
        ("arrears", _("In arrears")),
    ]
    PENDING_CHOICES = [
        ("", _("With or without")),
        ("any", _("Any pending request")),
        ("switch", _("Pending switch")),
        ("unbind", _("Pending unbind")),
        ("dissociation", _("Pending dissociation")),
    ]
    SORT_CHOICES = [
        ("newest", _("Newest association first")),
        ("oldest", _("Oldest association first")),
        ("account", _("Account name A–Z")),
    ]

    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    type = forms.ChoiceField(
        label=_("Association type"), required=False, choices=[("", _("Any type")), *Association.Type.choices]
    )
    status = forms.ChoiceField(label=_("Account status"), required=False, choices=STATUS_CHOICES)
    manager = forms.TypedChoiceField(label=_("Customer manager"), required=False, coerce=int, empty_value=None)
    pending = forms.ChoiceField(label=_("Pending request"), required=False, choices=PENDING_CHOICES)
    BUDGET_CHOICES = [
        ("", _("Any budget use")),
        (50, _("Budget used ≥ 50 %")),
        (80, _("Budget used ≥ 80 %")),
        (100, _("Budget used ≥ 100 %")),
    ]
    budget_used = forms.TypedChoiceField(
        label=_("Monthly budget"), required=False, choices=BUDGET_CHOICES, coerce=int, empty_value=None
    )
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=SORT_CHOICES)

    def __init__(self, *args, managers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["manager"].choices = [("", _("Any manager"))] + list(managers)
        self.fields["q"].widget.attrs["placeholder"] = _("Name, e-mail or account")
        use_fast_widgets(self)
