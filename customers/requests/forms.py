"""Forms of the request pages, on both sides. The forms that lead to a change (submit, confirm,
approve) run the account check in ``clean()`` so a refusal comes back as form errors on the
page; the service runs it again under the row lock."""
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from customers.checks import refusal, run_checks
from customers.models import AssociationRequest
from customers.requests.services import ensure_open
from partnercenter.widgets import use_fast_widgets

REASON_MAX_LENGTH = 500


def _reason_field(*, required: bool, label=None) -> forms.CharField:
    return forms.CharField(
        label=label or _("Reason"),
        required=required,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Enter a reason.")},
    )


def _consent_field() -> forms.BooleanField:
    return forms.BooleanField(
        label=_("I have understood the notes above and agree to this operation"),
        required=True,
        error_messages={"required": _("Tick the box to confirm that you have read the notes and agree.")},
    )


class _HandlingForm(forms.Form):
    """A form about an existing request: a stale page (the request was handled meanwhile or
    passed its deadline) is a form error, not a second answer."""

    def __init__(self, *args, association_request: AssociationRequest, **kwargs):
        super().__init__(*args, **kwargs)
        self.association_request = association_request

    def clean(self):
        cleaned = super().clean()
        try:
            ensure_open(self.association_request)
        except ValidationError as error:
            self.add_error(None, error)
        return cleaned


class _CheckedForm(forms.Form):
    """Runs the account check of ``action`` in ``clean()``."""

    def __init__(self, *args, association, action: str, handling: AssociationRequest | None = None,
                 to_customer: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.association = association
        self.action = action
        self.handling = handling
        self.to_customer = to_customer  # the Account Center's form: the refusal in the customer's words

    def clean(self):
        cleaned = super().clean()
        if self.handling is not None:
            try:
                ensure_open(self.handling)
            except ValidationError as error:
                self.add_error(None, error)
                return cleaned
        error = refusal(run_checks(
            association=self.association, action=self.action, handling=self.handling, to_customer=self.to_customer
        ))
        if error is not None:
            self.add_error(None, error)
        return cleaned


class RequestSubmitForm(_CheckedForm):
    """A partner's switch or unbind, or a customer's dissociation: consent and a reason."""

    consent = _consent_field()
    reason = _reason_field(required=True)


class ConfirmForm(_CheckedForm):
    """The customer agrees to a partner's request; the approval form of a dissociation is the
    same with the approval's checks."""

    consent = _consent_field()
    reason = _reason_field(required=False, label=_("Remarks (optional)"))


class RejectForm(_HandlingForm):
    reason = _reason_field(required=True, label=_("Reason for rejecting"))

    def __init__(self, *args, **kwargs):
        # Shown next to the agree/approve form, which has a reason field too: distinct ids keep
        # each <label for> on its own field.
        kwargs.setdefault("auto_id", "reject_%s")
        super().__init__(*args, **kwargs)


class CancelForm(_HandlingForm):
    reason = _reason_field(required=False, label=_("Remarks (optional)"))


class InboxFilterForm(forms.Form):
    """The requests inbox's filters. Unfiltered, it shows what waits for the partner: pending
    dissociation requests."""

    kind = forms.ChoiceField(
        label=_("Request"), required=False, choices=[("", _("Any request")), *AssociationRequest.Kind.choices]
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *AssociationRequest.Status.choices]
    )
    DEFAULTS = {"kind": AssociationRequest.Kind.DISSOCIATION, "status": AssociationRequest.Status.PENDING}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, initial=self.DEFAULTS, **kwargs)
        use_fast_widgets(self)

    def filters(self) -> dict | None:
        """Field lookups for the inbox query, or None when a value is not valid."""
        if not self.is_bound:
            return dict(self.DEFAULTS)
        if not self.is_valid():
            return None
        return {name: value for name, value in self.cleaned_data.items() if value}
