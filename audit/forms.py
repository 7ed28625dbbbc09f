"""The records page's filters."""
from django import forms
from django.utils.translation import gettext_lazy as _

from audit.events import ActorKind, Category, Event
from audit.services import category_of
from partnercenter.widgets import use_fast_widgets


def _events_by_category():
    return [
        (label, [(event.value, event.label) for event in Event if category_of(event.value) == value])
        for value, label in Category.choices
    ]


class RecordFilterForm(forms.Form):
    """Every field is optional. A bad value (a malformed date, an unknown event, an end
    before the start) is a form error shown above the list, never a server error."""

    event = forms.ChoiceField(label=_("Event"), required=False, choices=[("", _("Any event")), *_events_by_category()])
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=[("", _("Any category")), *Category.choices]
    )
    customer = forms.CharField(label=_("Customer"), required=False, max_length=100)
    actor = forms.CharField(label=_("Actor"), required=False, max_length=150)
    actor_kind = forms.ChoiceField(
        label=_("Actor kind"), required=False, choices=[("", _("Any kind")), *ActorKind.choices]
    )
    date_from = forms.DateField(
        label=_("From (UTC)"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    date_to = forms.DateField(
        label=_("To (UTC)"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].widget.attrs["placeholder"] = _("Account name or name")
        self.fields["actor"].widget.attrs["placeholder"] = _("Name")
        use_fast_widgets(self)

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date is before the start date."))
        return data
