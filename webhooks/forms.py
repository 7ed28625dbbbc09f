from django import forms
from django.utils.translation import gettext_lazy as _

from webhooks.fanout import event_types


class EndpointForm(forms.Form):
    url = forms.URLField(
        label=_("URL"), max_length=500, assume_scheme="https",
        help_text=_("Where your system receives the events, e.g. https://example.com/partner-center/webhooks."),
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    all_events = forms.BooleanField(
        label=_("All events"), required=False, initial=True,
        help_text=_("Every event, including event types added later. Untick to choose."),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"), required=False, widget=forms.CheckboxSelectMultiple, choices=event_types,
    )

    def clean(self):
        data = super().clean()
        if not data.get("all_events") and not data.get("events"):
            self.add_error("events", _("Choose at least one event, or all events."))
        return data

    @classmethod
    def of(cls, endpoint, data=None):
        initial = {"url": endpoint.url, "description": endpoint.description, "all_events": endpoint.all_events,
                   "events": endpoint.events}
        return cls(data, initial=initial)
